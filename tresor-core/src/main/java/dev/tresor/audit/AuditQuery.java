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
        return read(logFile, since, client, secret, limit, null).records();
    }

    /**
     * One page of records, oldest first, and the cursor for the page before it.
     *
     * @param next the {@code before} to ask for the next (older) page with, or null when there is none
     */
    public record Page(List<Map<String, Object>> records, Long next) {}

    /**
     * As above, across the log's segments ({@link AuditSegments}), and only records with a seq
     * below {@code before} (null: no bound), so a client pages backwards with {@link Page#next}.
     * Segments are skipped by their names (first seq) and headers (creation time: a segment holds
     * nothing later than the next segment's creation), so a query for recent records or one page
     * reads only the segments that can hold them, not the whole log.
     */
    public static Page read(Path logFile, Instant since, String client, String secret, int limit, Long before)
            throws IOException {
        Objects.requireNonNull(logFile, "logFile");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
        }
        List<Path> newestFirst = new ArrayList<>();
        newestFirst.add(logFile);
        List<AuditSegments.Segment> closed = AuditSegments.closed(logFile);
        for (int i = closed.size() - 1; i >= 0; i--) {
            if (before == null || closed.get(i).firstSeq() < before) {
                newestFirst.add(closed.get(i).file());
            }
        }
        Deque<Map<String, Object>> page = new ArrayDeque<>();
        boolean more = false;
        Instant laterSegmentCreated = null;
        for (Path segment : newestFirst) {
            if (since != null && laterSegmentCreated != null && laterSegmentCreated.isBefore(since)) {
                break; // this segment and all older ones end before `since`
            }
            if (!Files.exists(segment)) {
                continue; // the active segment between the renames of a cut, or one archived meanwhile
            }
            Deque<Map<String, Object>> found = new ArrayDeque<>();
            Instant created = readSegment(segment, since, client, secret, limit + 1, before, found);
            laterSegmentCreated = created;
            while (!found.isEmpty()) {
                page.addFirst(found.removeLast());
            }
            if (page.size() > limit) {
                more = true;
                while (page.size() > limit) {
                    page.removeFirst();
                }
                break;
            }
        }
        Long next = more ? (Long) page.getFirst().get("seq") : null;
        return new Page(Collections.unmodifiableList(new ArrayList<>(page)), next);
    }

    /** Streams one segment, keeping its newest {@code keep} matches in {@code newest}; returns its header's time. */
    private static Instant readSegment(Path segment, Instant since, String client, String secret, int keep, Long before,
                                       Deque<Map<String, Object>> newest) throws IOException {
        Instant created = null;
        try (LineReader reader = new LineReader(Files.newInputStream(segment), ChainCodec.MAX_LINE_BYTES)) {
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
                if (ChainCodec.TYPE_HEADER.equals(fields.get("type")) && fields.get("created") instanceof String c) {
                    try {
                        created = Instant.parse(c);
                    } catch (DateTimeParseException e) {
                        created = null;
                    }
                    continue;
                }
                if (before != null && fields.get("seq") instanceof Long seq && seq >= before) {
                    break; // seqs only grow within a segment
                }
                if (!ChainCodec.TYPE_EVENT.equals(fields.get("type")) || !matches(fields, since, client, secret)) {
                    continue;
                }
                if (newest.size() == keep) {
                    newest.removeFirst();
                }
                newest.addLast(project(fields));
            }
        }
        return created;
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
