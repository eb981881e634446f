package dev.tresor.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import com.google.crypto.tink.Mac;
import dev.tresor.crypto.Canonical;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The on-disk format of the audit chain: one JSON object per line, and the canonical bytes its
 * MAC is computed over.
 *
 * <p><b>Canonical MAC input.</b> The MAC of a line covers every field of the line except
 * {@code mac} itself, taken as parsed values rather than as bytes: the fields are sorted by name
 * and encoded with {@link Canonical} (tagged, length-prefixed) under the domain label
 * {@value #LINE_DOMAIN}: {@code count, then (name, value) pairs}, where a value is a string, a
 * 64-bit integer or null. Verification re-derives exactly this from the parsed line, so
 * whitespace, key order and JSON escaping of a re-serialiser do not matter, while any change of a
 * name, a value, a value's type, or an added or removed field does. Only these value types are
 * allowed; anything else (floats, booleans, nested objects, duplicate keys) makes a line invalid,
 * so no two different readings of one line can exist.
 */
final class ChainCodec {

    static final int FORMAT = 1;
    /** Associated data binding the wrapped chain key to this purpose. */
    static final byte[] KEY_CONTEXT = "tresor/audit-chain-key/v1".getBytes(StandardCharsets.UTF_8);
    static final String LINE_DOMAIN = "tresor/audit/line/v1";
    static final String ANCHOR_DOMAIN = "tresor/audit/anchor/v1";
    /** Longer lines are never written (fields are capped), so a longer one is not ours. */
    static final int MAX_LINE_BYTES = 1 << 20;
    /** Caps a field so a hostile request id or client name cannot blow up one line. */
    static final int MAX_FIELD_CHARS = 4096;

    static final String TYPE_HEADER = "header";
    static final String TYPE_EVENT = "event";
    static final String TYPE_ANCHOR = "anchor";
    static final String MAC = "mac";

    // JsonFactory is thread-safe and holds no state that changes what it reads or writes.
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private ChainCodec() {}

    /** A line that is not a well-formed record of this format. */
    static final class MalformedRecordException extends Exception {
        MalformedRecordException(String message) {
            super(message);
        }
    }

    static Map<String, Object> headerFields(String kekId, byte[] wrappedKey, java.time.Instant created) {
        return headerFields(kekId, Base64.getEncoder().encodeToString(wrappedKey), created, 0, null);
    }

    /**
     * The header of a segment: {@code seq} 0 and no {@code prev} for the first one of a chain; a
     * later segment stands at the seq of the previous segment's last record and carries that
     * record's MAC as {@code prev}, so the chain runs on across files (its first record is seq + 1).
     */
    static Map<String, Object> headerFields(String kekId, String wrappedKeyBase64, java.time.Instant created,
                                            long continuesSeq, String continuesMac) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", TYPE_HEADER);
        f.put("format", (long) FORMAT);
        f.put("seq", continuesSeq);
        if (continuesMac != null) {
            f.put("prev", continuesMac);
        }
        f.put("kekId", clean(kekId));
        f.put("wrappedKey", wrappedKeyBase64);
        f.put("created", created.toString());
        return f;
    }

    /** The writer's fixed field order; readers never rely on it (see the class comment). */
    static Map<String, Object> eventFields(long seq, String prev, AuditEvent e) {
        return EventLine.of(seq, prev, e).fields();
    }

    /** As above, for the log of node {@code node} (null: a log that names no node). */
    static Map<String, Object> eventFields(long seq, String prev, AuditEvent e, String node) {
        return EventLine.of(seq, prev, e, e.time().toString(), node).fields();
    }

    /**
     * One event record's field values, cleaned, in the writer's order. The audit writer encodes
     * every request's record through it directly: the same fields and MAC input as
     * {@link #eventFields} + {@link #canonical}, without a map, a sorted copy and a generator per
     * record (about a quarter of a read's CPU before).
     */
    record EventLine(long seq, String time, String requestId, String client, String action, String secret,
                     Long version, String outcome, long status, String source, String detail, String prev, String node) {

        static EventLine of(long seq, String prev, AuditEvent e) {
            return of(seq, prev, e, e.time().toString());
        }

        /** As above with the event's time already formatted ({@link dev.tresor.model.InstantText}). */
        static EventLine of(long seq, String prev, AuditEvent e, String time) {
            return of(seq, prev, e, time, null);
        }

        /**
         * As above, in the log of server node {@code node}: the record then carries a {@code node}
         * field (under the MAC like every other); null leaves it out, so a single node's log reads
         * byte for byte as before node ids existed.
         */
        static EventLine of(long seq, String prev, AuditEvent e, String time, String node) {
            return new EventLine(seq, time, clean(e.requestId()), clean(e.client()), clean(e.action()),
                    clean(e.secret()), e.version() == null ? null : Long.valueOf(e.version()), clean(e.outcome()),
                    e.status(), clean(e.source()), clean(e.detail()), prev, clean(node));
        }

        Map<String, Object> fields() {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("type", TYPE_EVENT);
            f.put("seq", seq);
            f.put("time", time);
            f.put("requestId", requestId);
            f.put("client", client);
            f.put("action", action);
            f.put("secret", secret);
            f.put("version", version);
            f.put("outcome", outcome);
            f.put("status", status);
            f.put("source", source);
            f.put("detail", detail);
            if (node != null) {
                f.put("node", node);
            }
            f.put("prev", prev);
            return f;
        }

        /** {@link #canonical} of {@link #fields()}: the same 13 (14 with a node) fields, by name in sorted order. */
        byte[] canonical() {
            Canonical c = Canonical.of(LINE_DOMAIN).number(node == null ? 13 : 14)
                    .string("action").string(action)
                    .string("client").string(client)
                    .string("detail").string(detail);
            if (node != null) {
                c.string("node").string(node);
            }
            return c
                    .string("outcome").string(outcome)
                    .string("prev").string(prev)
                    .string("requestId").string(requestId)
                    .string("secret").string(secret)
                    .string("seq").number(seq)
                    .string("source").string(source)
                    .string("status").number(status)
                    .string("time").string(time)
                    .string("type").string(TYPE_EVENT)
                    .string("version").number(version)
                    .toBytes();
        }

        String mac(Mac key) {
            try {
                return Base64.getEncoder().encodeToString(key.computeMac(canonical()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("audit chain MAC computation failed", e);
            }
        }

        // Field names quoted and encoded once, not for every record.
        private static final SerializedString TYPE = new SerializedString("type");
        private static final SerializedString EVENT = new SerializedString(TYPE_EVENT);
        private static final SerializedString SEQ = new SerializedString("seq");
        private static final SerializedString TIME = new SerializedString("time");
        private static final SerializedString REQUEST_ID = new SerializedString("requestId");
        private static final SerializedString CLIENT = new SerializedString("client");
        private static final SerializedString ACTION = new SerializedString("action");
        private static final SerializedString SECRET = new SerializedString("secret");
        private static final SerializedString VERSION = new SerializedString("version");
        private static final SerializedString OUTCOME = new SerializedString("outcome");
        private static final SerializedString STATUS = new SerializedString("status");
        private static final SerializedString SOURCE = new SerializedString("source");
        private static final SerializedString DETAIL = new SerializedString("detail");
        private static final SerializedString NODE = new SerializedString("node");
        private static final SerializedString PREV = new SerializedString("prev");
        private static final SerializedString MAC_NAME = new SerializedString(MAC);

        /** The line as {@link #writeLine} writes {@link #fields()} and the MAC, with its newline. */
        void write(JsonGenerator g, String mac) throws IOException {
            g.writeStartObject();
            g.writeFieldName(TYPE);
            g.writeString(EVENT);
            g.writeFieldName(SEQ);
            g.writeNumber(seq);
            g.writeFieldName(TIME);
            g.writeString(time);
            if (node != null) {
                g.writeFieldName(NODE);
                g.writeString(node);
            }
            nullableString(g, REQUEST_ID, requestId);
            nullableString(g, CLIENT, client);
            nullableString(g, ACTION, action);
            nullableString(g, SECRET, secret);
            g.writeFieldName(VERSION);
            if (version == null) {
                g.writeNull();
            } else {
                g.writeNumber(version.longValue());
            }
            nullableString(g, OUTCOME, outcome);
            g.writeFieldName(STATUS);
            g.writeNumber(status);
            nullableString(g, SOURCE, source);
            nullableString(g, DETAIL, detail);
            nullableString(g, PREV, prev);
            g.writeFieldName(MAC_NAME);
            g.writeString(mac);
            g.writeEndObject();
            g.writeRaw('\n');
        }

        private static void nullableString(JsonGenerator g, SerializedString name, String value) throws IOException {
            g.writeFieldName(name);
            if (value == null) {
                g.writeNull();
            } else {
                g.writeString(value);
            }
        }
    }

    /** A generator for a run of lines (no separator between root values: each line ends itself). */
    static JsonGenerator lineGenerator(OutputStream out) throws IOException {
        JsonGenerator g = JSON.createGenerator(out);
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        g.setRootValueSeparator(null);
        return g;
    }

    static Map<String, Object> anchorFields(long seq, String mac, java.time.Instant time) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("type", TYPE_ANCHOR);
        f.put("seq", seq);
        f.put(MAC, mac);
        f.put("time", time.toString());
        return f;
    }

    /** Canonical MAC input of {@code fields} (which must not contain the MAC being computed). */
    static byte[] canonical(String domain, Map<String, Object> fields) {
        Canonical c = Canonical.of(domain).number(fields.size());
        for (Map.Entry<String, Object> field : new TreeMap<>(fields).entrySet()) {
            c.string(field.getKey());
            switch (field.getValue()) {
                case null -> c.string(null);
                case String s -> c.string(s);
                case Long n -> c.number(n);
                default -> throw new IllegalArgumentException(
                        "field " + field.getKey() + " has an unsupported type " + field.getValue().getClass());
            }
        }
        return c.toBytes();
    }

    static String computeMac(Mac key, String domain, Map<String, Object> fields) {
        try {
            return Base64.getEncoder().encodeToString(key.computeMac(canonical(domain, fields)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("audit chain MAC computation failed", e);
        }
    }

    /** Checks {@code macField} of {@code fields} against the MAC of all other fields. */
    static boolean verifyMac(Mac key, String domain, Map<String, Object> fields, String macField) {
        if (!(fields.get(macField) instanceof String encoded)) {
            return false;
        }
        byte[] tag;
        try {
            tag = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            return false;
        }
        Map<String, Object> covered = new LinkedHashMap<>(fields);
        covered.remove(macField);
        try {
            key.verifyMac(tag, canonical(domain, covered));
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Writes {@code fields} then {@code macField: mac} as one JSON line with its newline. */
    static void writeLine(OutputStream out, Map<String, Object> fields, String macField, String mac) {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            // The stream is ours to close; the generator must not close it.
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            for (Map.Entry<String, Object> field : fields.entrySet()) {
                g.writeFieldName(field.getKey());
                switch (field.getValue()) {
                    case null -> g.writeNull();
                    case String s -> g.writeString(s);
                    case Long n -> g.writeNumber(n);
                    default -> throw new IllegalArgumentException("unsupported field type " + field.getValue().getClass());
                }
            }
            g.writeStringField(macField, mac);
            g.writeEndObject();
            g.flush();
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses one line (without its newline) into field values: strings, longs and nulls only. */
    static Map<String, Object> parse(byte[] line, int length) throws MalformedRecordException {
        Map<String, Object> fields = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(line, 0, length)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MalformedRecordException("not a JSON object");
            }
            JsonToken token;
            while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                Object value = switch (p.nextToken()) {
                    case VALUE_STRING -> p.getText();
                    case VALUE_NULL -> null;
                    case VALUE_NUMBER_INT -> {
                        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            throw new MalformedRecordException("field '" + name + "' is out of range");
                        }
                        yield p.getLongValue();
                    }
                    case null, default -> throw new MalformedRecordException("field '" + name + "' has an unsupported value");
                };
                // A duplicate key would let two readers see two different records in one line.
                if (fields.containsKey(name)) {
                    throw new MalformedRecordException("field '" + name + "' appears twice");
                }
                fields.put(name, value);
            }
            if (token != JsonToken.END_OBJECT) {
                throw new MalformedRecordException("not a JSON object");
            }
            if (p.nextToken() != null) {
                throw new MalformedRecordException("text after the JSON object");
            }
            return fields;
        } catch (JsonProcessingException e) {
            throw new MalformedRecordException("not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            // Parsing an in-memory array performs no I/O; anything else is still a malformed line.
            throw new MalformedRecordException("not valid JSON (" + e.getMessage() + ")");
        }
    }

    /**
     * Makes a string safe to round-trip through JSON unchanged, so the MAC the writer computed is
     * the MAC a reader re-derives: lone UTF-16 surrogates (which UTF-8 cannot carry) become U+FFFD,
     * and overlong values are cut (without splitting a surrogate pair) and marked with an ellipsis.
     */
    static String clean(String s) {
        if (s == null) {
            return null;
        }
        boolean tooLong = s.length() > MAX_FIELD_CHARS;
        boolean needsFix = tooLong;
        for (int i = 0; i < s.length() && !needsFix; i++) {
            needsFix = Character.isSurrogate(s.charAt(i));
        }
        if (!needsFix) {
            return s;
        }
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_FIELD_CHARS + 1));
        for (int i = 0; i < s.length() && out.length() < MAX_FIELD_CHARS; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                if (out.length() + 2 > MAX_FIELD_CHARS) {
                    break;
                }
                out.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                out.append('\uFFFD');
            } else {
                out.append(c);
            }
        }
        if (tooLong) {
            out.append('\u2026');
        }
        return out.toString();
    }
}
