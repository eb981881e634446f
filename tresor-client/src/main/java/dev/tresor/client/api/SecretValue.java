package dev.tresor.client.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * One version of a secret as read. The value is the caller's to wipe ({@link #wipe()}) once used;
 * {@link #toString()} never shows it.
 */
public record SecretValue(String name, int version, byte[] value) {

    private static final JsonFactory FACTORY = new JsonFactory();

    public void wipe() {
        Arrays.fill(value, (byte) 0);
    }

    /**
     * Pulls value, encoding and version out of {@code GET /v1/secrets/NAME}'s JSON answer without
     * making the value a String: its characters are copied once into an array that is zeroed
     * after decoding, and the temporary encodings are zeroed too.
     */
    static SecretValue parse(String name, byte[] body) {
        char[] text = null;
        String encoding = "utf-8";
        int version = -1;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken token = p.nextToken();
                switch (field) {
                    case "value" -> text = token == JsonToken.VALUE_STRING
                            ? Arrays.copyOfRange(p.getTextCharacters(), p.getTextOffset(), p.getTextOffset() + p.getTextLength())
                            : null;
                    case "encoding" -> encoding = p.getText();
                    case "version" -> version = p.getIntValue();
                    default -> p.skipChildren();
                }
            }
            if (text == null || version < 0) {
                throw new IOException("no value or version");
            }
            return new SecretValue(name, version, decode(text, encoding));
        } catch (IOException | IllegalArgumentException e) {
            throw new ApiException(200, "the answer for secret " + name + " does not parse (" + e.getMessage() + ")", null);
        } finally {
            if (text != null) {
                Arrays.fill(text, '\0');
            }
        }
    }

    private static byte[] decode(char[] text, String encoding) {
        if ("base64".equals(encoding)) {
            ByteBuffer ascii = StandardCharsets.ISO_8859_1.encode(CharBuffer.wrap(text));
            byte[] encoded = Arrays.copyOfRange(ascii.array(), 0, ascii.limit());
            try {
                return Base64.getDecoder().decode(encoded);
            } finally {
                Arrays.fill(encoded, (byte) 0);
                Arrays.fill(ascii.array(), (byte) 0);
            }
        }
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(text));
        try {
            return Arrays.copyOfRange(encoded.array(), 0, encoded.limit());
        } finally {
            Arrays.fill(encoded.array(), (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "SecretValue[" + name + " v" + version + ", value=(hidden)]";
    }
}
