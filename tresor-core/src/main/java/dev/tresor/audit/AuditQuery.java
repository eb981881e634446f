package dev.tresor.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads event records for {@code GET /v1/audit}. This is a viewer, not a verifier: it needs no
 * key and skips lines it cannot read (such as a line the writer is still writing); whether the
 * file is intact is {@link AuditVerifier}'s question. The file is streamed line by line and only
 * the newest {@code limit} matches are held, so a large log costs memory in proportion to
 * {@code limit}, not to the file.
 */
public final class AuditQuery {

    /** Keeps one answer's memory bounded whatever a caller asks for. */
    public static final int MAX_LIMIT = 100_000;

    /** The fields returned, in this order; chain plumbing (type, prev, mac) is left out. */
    private static final List<String> FIELDS = List.of(
            "seq", "time", "requestId", "client", "action", "secret", "version", "outcome", "status", "source", "detail");

    private AuditQuery() {}

    /**
     * The newest {@code limit} event records matching every given filter, oldest first.
     *
     * @param since  only records at or after this time; null for no bound
     * @param client only records of this client (exact match); null for all
     * @param secret only records about this secret (exact match); null for all
     * @param limit  1 to {@value #MAX_LIMIT}
     * @return maps of {@code seq, time, requestId, client, action, secret, version, outcome,
     *         status, source, detail} (time as an ISO-8601 string, numbers as Long)
     */
    public static List<Map<String, Object>> read(Path logFile, Instant since, String client, String secret, int limit)
            throws IOException {
        Objects.requireNonNull(logFile, "logFile");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
        }
        Deque<Map<String, Object>> newest = new ArrayDeque<>(Math.min(limit, 1024));
        try (LineReader reader = new LineReader(Files.newInputStream(logFile), ChainCodec.MAX_LINE_BYTES)) {
            LineReader.Line line;
            while ((line = reader.next()) != null) {
                if (!line.terminated() || line.oversize()) {
                    continue;
                }
                Map<String, Object> fields;
                try {
                    fields = ChainCodec.parse(line.bytes(), line.length());
                } catch (ChainCodec.MalformedRecordException e) {
                    continue;
                }
                if (!ChainCodec.TYPE_EVENT.equals(fields.get("type")) || !matches(fields, since, client, secret)) {
                    continue;
                }
                if (newest.size() == limit) {
                    newest.removeFirst();
                }
                newest.addLast(project(fields));
            }
        }
        return Collections.unmodifiableList(new ArrayList<>(newest));
    }

    private static boolean matches(Map<String, Object> fields, Instant since, String client, String secret) {
        if (client != null && !client.equals(fields.get("client"))) {
            return false;
        }
        if (secret != null && !secret.equals(fields.get("secret"))) {
            return false;
        }
        if (since != null) {
            if (!(fields.get("time") instanceof String time)) {
                return false;
            }
            try {
                return !Instant.parse(time).isBefore(since);
            } catch (DateTimeParseException e) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, Object> project(Map<String, Object> fields) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : FIELDS) {
            out.put(name, fields.get(name));
        }
        // Null values are kept on purpose: "no client" (an unauthenticated caller) is information.
        return Collections.unmodifiableMap(out);
    }
}
