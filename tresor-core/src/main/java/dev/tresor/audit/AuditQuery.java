package dev.tresor.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
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
     */
    public static Page read(Path logFile, Instant since, String client, String secret, int limit, Long before)
            throws IOException {
        return page(logFile, new Range(since, null, null, before), client, secret, limit);
    }

    /**
     * Bounds of a query: times {@code since} (inclusive) to {@code until} (exclusive), seqs after
     * {@code after} and before {@code before} (both exclusive); null for no bound.
     */
    public record Range(Instant since, Instant until, Long after, Long before) {
        public static final Range ALL = new Range(null, null, null, null);
    }

    /**
     * Records are written in seq order and, up to the time a request waits for its record, in time
     * order: a record stamped more than this before its predecessor in the file is not looked for.
     */
    static final Duration TIME_SLACK = Duration.ofMinutes(1);

    /**
     * The newest {@code limit} records within {@code range} matching the filters, oldest first,
     * and the cursor of the page before them. Segments are read newest first and each from its end
     * backwards (from the offset of {@code before}, found by bisection), stopping as soon as the
     * page is full or the range's lower bound is passed: the newest page, a recent window or any
     * page by cursor costs about what it returns, whatever the log's size. Segments are skipped by
     * name (first seq) and header (creation time). Only a filter matching few records reads far.
     */
    public static Page page(Path logFile, Range range, String client, String secret, int limit) throws IOException {
        return page(logFile, range, client, secret, limit, AuditQuery::project);
    }

    /** As {@link #page}, each record with every field of its line (MAC and prev included), to copy it elsewhere. */
    static Page rawPage(Path logFile, Range range, int limit) throws IOException {
        return page(logFile, range, null, null, limit, fields -> Collections.unmodifiableMap(new LinkedHashMap<>(fields)));
    }

    private static Page page(Path logFile, Range range, String client, String secret, int limit,
                             java.util.function.UnaryOperator<Map<String, Object>> shape) throws IOException {
        Objects.requireNonNull(logFile, "logFile");
        Objects.requireNonNull(range, "range");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ", not " + limit);
        }
        List<AuditSegments.Segment> closed = AuditSegments.closed(logFile);
        List<Path> newestFirst = new ArrayList<>();
        List<Long> firstSeqs = new ArrayList<>();
        newestFirst.add(logFile);
        firstSeqs.add(null); // the active segment's first seq is in its header
        for (int i = closed.size() - 1; i >= 0; i--) {
            newestFirst.add(closed.get(i).file());
            firstSeqs.add(closed.get(i).firstSeq());
        }
        Deque<Map<String, Object>> newest = new ArrayDeque<>(); // newest first
        boolean more = false;
        Long laterFirstSeq = null;
        scan:
        for (int i = 0; i < newestFirst.size(); i++) {
            Path segment = newestFirst.get(i);
            Long firstSeq = firstSeqs.get(i);
            if (range.after() != null && laterFirstSeq != null && laterFirstSeq - 1 <= range.after()) {
                break; // every record of this and older segments is at or before `after`
            }
            if (range.before() != null && firstSeq != null && firstSeq >= range.before()) {
                laterFirstSeq = firstSeq;
                continue;
            }
            if (!Files.exists(segment)) {
                continue; // the active segment between the renames of a cut, or one archived meanwhile
            }
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
                long end = ch.size();
                if (range.until() != null && headerCreated(ch).minus(TIME_SLACK).isAfter(range.until())) {
                    laterFirstSeq = firstSeq != null ? firstSeq : laterFirstSeq;
                    continue; // every record of this segment came after `until`
                }
                if (range.before() != null) {
                    end = lineAtOrAfterSeq(ch, end, range.before());
                }
                ReverseLines lines = new ReverseLines(ch, end, ChainCodec.MAX_LINE_BYTES);
                byte[] line;
                while ((line = lines.previous()) != null) {
                    Map<String, Object> fields;
                    try {
                        fields = ChainCodec.parse(line, line.length);
                    } catch (ChainCodec.MalformedRecordException e) {
                        continue;
                    }
                    if (ChainCodec.TYPE_HEADER.equals(fields.get("type"))) {
                        if (fields.get("seq") instanceof Long base) {
                            laterFirstSeq = base + 1;
                        }
                        continue scan;
                    }
                    if (!ChainCodec.TYPE_EVENT.equals(fields.get("type")) || !(fields.get("seq") instanceof Long seq)) {
                        continue;
                    }
                    if (range.before() != null && seq >= range.before()) {
                        continue;
                    }
                    if (range.after() != null && seq <= range.after()) {
                        break scan;
                    }
                    Instant time = fields.get("time") instanceof String t ? created(t) : null;
                    if (range.since() != null && time != null && time.isBefore(range.since().minus(TIME_SLACK))) {
                        break scan;
                    }
                    if (time == null || !within(time, range) || !matches(fields, null, client, secret)) {
                        continue;
                    }
                    if (newest.size() == limit) {
                        more = true;
                        break scan;
                    }
                    newest.addLast(shape.apply(fields));
                }
            }
            laterFirstSeq = firstSeq != null ? firstSeq : laterFirstSeq;
        }
        List<Map<String, Object>> page = new ArrayList<>(newest);
        Collections.reverse(page);
        Long next = more ? (Long) page.getFirst().get("seq") : null;
        return new Page(Collections.unmodifiableList(page), next);
    }

    /** The creation time in the segment's header (its first line), or {@link Instant#MIN} if unreadable. */
    private static Instant headerCreated(FileChannel ch) throws IOException {
        ByteBuffer first = ByteBuffer.allocate(8 * 1024);
        int n = ch.read(first, 0);
        for (int i = 0; i < n; i++) {
            if (first.array()[i] == '\n') {
                try {
                    return ChainCodec.parse(first.array(), i).get("created") instanceof String c ? created(c) : Instant.MIN;
                } catch (ChainCodec.MalformedRecordException e) {
                    return Instant.MIN;
                }
            }
        }
        return Instant.MIN;
    }

    private static Instant created(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return Instant.MIN;
        }
    }

    private static boolean within(Instant time, Range range) {
        return (range.since() == null || !time.isBefore(range.since()))
                && (range.until() == null || time.isBefore(range.until()));
    }

    /**
     * The offset of a line start at or before the first record with seq {@code seq} (or {@code size}),
     * by bisection over byte offsets: seqs only grow within a segment.
     */
    private static long lineAtOrAfterSeq(FileChannel ch, long size, long seq) throws IOException {
        long lo = 0;
        long hi = size;
        ByteBuffer probe = ByteBuffer.allocate(8 * 1024);
        while (hi - lo > 64 * 1024) {
            long mid = lo + (hi - lo) / 2;
            probe.clear();
            int n = ch.read(probe, mid);
            if (n <= 0) {
                hi = mid;
                continue;
            }
            byte[] bytes = probe.array();
            int nl = -1;
            for (int i = 0; i < n; i++) {
                if (bytes[i] == '\n') {
                    nl = i;
                    break;
                }
            }
            int next = -1;
            for (int i = nl + 1; nl >= 0 && i < n; i++) {
                if (bytes[i] == '\n') {
                    next = i;
                    break;
                }
            }
            if (nl < 0 || next < 0) {
                return hi; // lines longer than the probe: give up bisecting, the reverse scan filters
            }
            long lineStart = mid + nl + 1;
            Long lineSeq = null;
            try {
                Map<String, Object> fields = ChainCodec.parse(Arrays.copyOfRange(bytes, nl + 1, next), next - nl - 1);
                lineSeq = fields.get("seq") instanceof Long l ? l : null;
            } catch (ChainCodec.MalformedRecordException e) {
                lineSeq = null;
            }
            if (lineSeq == null) {
                return hi;
            }
            if (lineSeq >= seq) {
                hi = lineStart;
            } else {
                lo = lineStart;
            }
        }
        return hi;
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

    /** A copied record's line (see {@link AuditTableCopy}) as {@link #page} shows records, naming its node. */
    static Map<String, Object> projectLine(String line, String node) {
        byte[] bytes = line.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Map<String, Object> fields;
        try {
            fields = new LinkedHashMap<>(ChainCodec.parse(bytes, bytes.length));
        } catch (ChainCodec.MalformedRecordException e) {
            throw new IllegalStateException("a copied audit record of node " + node + " does not parse: " + e.getMessage(), e);
        }
        fields.putIfAbsent("node", node);
        return project(fields);
    }

    private static Map<String, Object> project(Map<String, Object> fields) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : FIELDS) {
            out.put(name, fields.get(name));
        }
        if (fields.get("node") != null) {
            out.put("node", fields.get("node")); // records of a log written with a node id (several nodes)
        }
        // Null values are kept on purpose: "no client" (an unauthenticated caller) is information.
        return Collections.unmodifiableMap(out);
    }
}
