package dev.tresor.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.KeyDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;

/**
 * Every string in a request body must be Unicode text. JSON lets a {@code \\uD800} escape stand
 * alone; Java keeps it as a lone UTF-16 surrogate, which UTF-8 cannot encode, so it was stored as
 * {@code ?} with a 201: a value silently not the one sent. Such strings are refused instead.
 */
final class WholeCharacters {

    private WholeCharacters() {}

    /** Raised for a string holding a lone surrogate; names no part of the string. */
    static final class NotTextException extends JsonMappingException {
        NotTextException(JsonParser parser) {
            super(parser, "a string holds a lone UTF-16 surrogate");
        }
    }

    static SimpleModule module() {
        SimpleModule module = new SimpleModule("whole-characters");
        module.addDeserializer(String.class, new Strings());
        module.addKeyDeserializer(String.class, new Keys());
        return module;
    }

    static boolean isText(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static final class Strings extends StdScalarDeserializer<String> {
        Strings() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String s = StringDeserializer.instance.deserialize(p, ctxt);
            if (s != null && !isText(s)) {
                throw new NotTextException(p);
            }
            return s;
        }
    }

    private static final class Keys extends KeyDeserializer {
        @Override
        public Object deserializeKey(String key, DeserializationContext ctxt) throws IOException {
            if (!isText(key)) {
                throw new NotTextException(ctxt.getParser());
            }
            return key;
        }
    }
}
