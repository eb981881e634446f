package dev.tresor.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.tresor.model.TresorException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.stream.Collectors;

/** JSON in and out. Parse errors become 400s that name the field, never a Java type or a stack trace. */
final class Json {

    // Jackson's default buffer recycling is per thread; with a virtual thread per request that
    // meant fresh buffers (KiBs) for every generator and parser. A shared pool survives them.
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                    // {"value":"a","value":"b"} is refused, not read as "b": two readers of one body
                    // (a proxy, an audit tool) must not see different requests.
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .addModule(new JavaTimeModule())
            .addModule(WholeCharacters.module())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            // Types are what the API says: "3" is not a number, 3 and true are not strings.
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(32).maxStringLength(4 * 1024 * 1024).maxNumberLength(32).build());
        for (CoercionInputShape shape : new CoercionInputShape[] {CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean}) {
            MAPPER.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
    }

    private Json() {}

    static <T> T parse(byte[] body, Class<T> type) {
        if (body.length == 0) {
            throw TresorException.badRequest("a JSON body is required");
        }
        try {
            T value = MAPPER.readValue(body, type);
            if (value == null) {
                throw TresorException.badRequest("a JSON object is required, not null");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : "; known fields: "
                    + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
            throw TresorException.badRequest("unknown field '" + e.getPropertyName() + "'" + known);
        } catch (MismatchedInputException e) {
            String field = field(e);
            String expected = expected(e.getTargetType());
            throw TresorException.badRequest(field.isEmpty()
                    ? "the body must be a JSON object"
                    : "field '" + field + "' must be " + expected);
        } catch (JsonParseException e) {
            throw TresorException.badRequest("malformed JSON" + location(e) + ": " + reason(e.getOriginalMessage()));
        } catch (WholeCharacters.NotTextException e) {
            String field = field(e);
            throw TresorException.badRequest((field.isEmpty() ? "a string" : "field '" + field + "'")
                    + " holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF escape), which is not text; "
                    + "send bytes as valueBase64");
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof JsonParseException p) { // a syntax error inside a field's value
                throw TresorException.badRequest("malformed JSON" + location(p) + ": " + reason(p.getOriginalMessage()));
            }
            // Other mapping problems, e.g. a number too large for its field.
            String field = field(e);
            throw TresorException.badRequest(field.isEmpty()
                    ? "the body does not fit the expected JSON object"
                    : "field '" + field + "' has a value out of range or of the wrong kind");
        } catch (com.fasterxml.jackson.core.exc.InputCoercionException e) {
            throw TresorException.badRequest("a number" + location(e) + " is out of range");
        } catch (JsonProcessingException e) {
            throw TresorException.badRequest("malformed JSON" + location(e));
        } catch (IOException e) {
            throw TresorException.badRequest("unreadable body");
        }
    }

    static WipeableBuffer write(Object value) {
        WipeableBuffer out = new WipeableBuffer(256);
        try {
            MAPPER.writeValue(out, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static JsonGenerator generator(WipeableBuffer out) {
        try {
            return MAPPER.getFactory().createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String field(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!out.isEmpty()) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (java.util.List.class.isAssignableFrom(type)) {
            return "a list";
        }
        if (java.util.Map.class.isAssignableFrom(type)) {
            return "an object of strings";
        }
        return "an object";
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /**
     * What kind of syntax error, without Jackson's wording: that quotes the offending token, which
     * may be (part of) a value, and the message goes to the audit log as well as to the client.
     */
    private static String reason(String message) {
        if (message == null) {
            return "syntax error";
        }
        if (message.startsWith("Duplicate field")) {
            return "a field appears twice in one object";
        }
        if (message.startsWith("Unexpected end-of-input")) {
            return "the body ends too early";
        }
        if (message.contains("UTF-8") || message.contains("UTF8")) {
            return "the body is not valid UTF-8";
        }
        if (message.contains("control character") || message.contains("CTRL-CHAR")) {
            return "unescaped control character in a string";
        }
        if (message.contains("maximum") || message.contains("exceeds")) {
            return "the document is too deeply nested or a token is too long";
        }
        return "syntax error (expected JSON such as {\"field\": \"text\"})";
    }
}
