package dev.tresor.audit;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.PooledHmac;
import dev.tresor.crypto.TinkRuntime;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Walks an audit log from its header to its end, checking every line, and the anchor. Shared by
 * {@link AuditVerifier} (which reports) and {@link FileAuditSink} (which refuses to continue a
 * broken chain, or repairs a torn last line), so both judge a file by exactly the same rules.
 */
final class ChainScan {

    /**
     * @param line       1-based line number, or -1 if the problem belongs to no line
     * @param message    a sentence naming the line and what is wrong
     * @param tornTail   the problem is only an incomplete or unparsable last line, as a crash in
     *                   the middle of a write leaves it; everything before it verified
     * @param rollback   the log and the store's checkpoint of it disagree (the log was cut, put back
     *                   from an older copy or replaced, or the checkpoint row was): an operator may
     *                   accept it with a recorded reason; every other problem is damage or tampering
     */
    record Problem(long line, String message, boolean tornTail, boolean rollback) {
        Problem(long line, String message, boolean tornTail) {
            this(line, message, tornTail, false);
        }
    }

    /**
     * @param chainKey      the unwrapped chain key, or null if the header is unusable
     * @param lines         lines that verified, header included
     * @param records       records after the header that verified
     * @param lastSeq       seq of the last verified record (0 = header, -1 = none)
     * @param lastMac       MAC of the last verified record
     * @param lastAction    action of the last verified event record, or null
     * @param goodBytes     byte length of the verified prefix of the file
     * @param fileBytes     byte length of the file as scanned
     * @param lineProblem   the first bad line, or null
     * @param anchorProblem a disagreement with the anchor file, or null
     * @param anchor        the anchor, if present and readable
     * @param bytesRead     bytes of the file this scan read and checked (the whole file, or its
     *                      header and the tail from a checkpoint)
     * @param recordedEpochs the highest store epochs the scanned checkpoint records carry (since the
     *                      last accepted rollback)
     * @param checkpoints   checkpoint records scanned
     * @param base          the seq the header stands at: 0 for the first segment of a chain, else
     *                      the seq of the previous segment's last record
     * @param basePrev      that record's MAC (null for a first segment)
     * @param wrappedKey    the header's wrapped chain key (Base64), for the next segment's header
     * @param kekId         the KEK the header names
     * @param checkpointInEarlierSegment the store's checkpoint names a seq before this file's
     *                      first record: it lies in a closed segment (see {@link AuditSegments})
     */
    record Result(Mac chainKey, long lines, long records, long lastSeq, String lastMac, String lastAction,
            long goodBytes, long fileBytes, Problem lineProblem, Problem anchorProblem, Optional<Anchor> anchor,
            long bytesRead, WriteEpochs recordedEpochs, long checkpoints, long base, String basePrev,
            String wrappedKey, String kekId, boolean checkpointInEarlierSegment, boolean resetInFile, Instant created) {

        Problem firstProblem() {
            return lineProblem != null ? lineProblem : anchorProblem;
        }

        Result withProblem(Problem problem) {
            return new Result(chainKey, lines, records, lastSeq, lastMac, lastAction, goodBytes, fileBytes, problem,
                    null, anchor, bytesRead, recordedEpochs, checkpoints, base, basePrev, wrappedKey, kekId, false,
                    resetInFile, created);
        }

        /** This result with the checkpoint epochs of earlier segments scanned before it, and their bytes. */
        Result after(WriteEpochs earlierEpochs, long earlierBytes, long earlierCheckpoints) {
            return new Result(chainKey, lines, records, lastSeq, lastMac, lastAction, goodBytes, fileBytes, lineProblem,
                    anchorProblem, anchor, bytesRead + earlierBytes,
                    // an accepted rollback inside this file already reset what came before it
                    recordedEpochs.max(resetInFile ? WriteEpochs.NONE : earlierEpochs), checkpoints + earlierCheckpoints,
                    base, basePrev, wrappedKey, kekId, false, resetInFile, created);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(ChainScan.class);
    private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

    private final Path log;
    private final KeyProvider keyProvider;
    /** The name checkpoints of this chain carry: the active segment's file name. */
    private final String logName;
    /** Only the active segment has an anchor; closed segments are vouched for by their successor. */
    private final boolean anchored;

    private Mac chainKey;
    private long lines;
    private long records;
    private long lastSeq = -1;
    private String lastMac;
    private String lastAction;
    private long goodBytes;
    private long fileBytes;
    private String anchoredMacSeen;
    private long anchoredLineSeen = -1;
    /** The first seq this scan checked after the header (1, or a checkpoint's). */
    private long firstSeq = 1;
    private long bytesRead;
    private WriteEpochs recordedEpochs = WriteEpochs.NONE;
    private long checkpoints;
    private long base;
    private String basePrev;
    private String wrappedKey;
    private String kekId;
    private boolean checkpointInEarlierSegment;
    private boolean resetInFile;
    private Instant created;
    private long progressAt = System.nanoTime();

    private ChainScan(Path log, KeyProvider keyProvider, String logName, boolean anchored) {
        this.log = log;
        this.keyProvider = keyProvider;
        this.logName = logName;
        this.anchored = anchored;
    }

    static Result scan(Path log, KeyProvider keyProvider) throws IOException {
        return new ChainScan(log, keyProvider, log.getFileName().toString(), true).run();
    }

    /** A closed segment, whole: no anchor of its own (the next segment's header vouches for its end). */
    static Result scanClosed(Path segment, KeyProvider keyProvider) throws IOException {
        return new ChainScan(segment, keyProvider, segment.getFileName().toString(), false).run();
    }

    /** The tail of closed segment {@code segment} from the checkpoint of the log named {@code logName}. */
    static Result scanClosedFrom(Path segment, String logName, KeyProvider keyProvider, String sealedCheckpoint)
            throws IOException {
        return new ChainScan(segment, keyProvider, logName, false).runFrom(sealedCheckpoint);
    }

    /**
     * Checks the header and then only the tail from the store's checkpoint {@code sealedCheckpoint}
     * on: what comes before the checkpoint record was verified when the checkpoint was taken, and
     * the checkpoint record itself (its MAC, seq and place) proves that prefix is the same one.
     */
    static Result scanFrom(Path log, KeyProvider keyProvider, String sealedCheckpoint) throws IOException {
        String name = log.getFileName().toString();
        Result active = new ChainScan(log, keyProvider, name, true).runFrom(sealedCheckpoint);
        return active.checkpointInEarlierSegment() ? acrossSegments(log, keyProvider, sealedCheckpoint, active) : active;
    }

    /**
     * The checkpoint lies in a closed segment (a cut came after it): checks that segment's tail
     * from the checkpoint, every later closed segment whole, the active segment whole, and that
     * each segment's header continues from the last record of the one before.
     */
    private static Result acrossSegments(Path log, KeyProvider keyProvider, String sealed, Result active)
            throws IOException {
        String name = log.getFileName().toString();
        long seq;
        try {
            seq = Checkpoint.open(sealed, name, active.chainKey()).seq();
        } catch (ChainCodec.MalformedRecordException e) {
            throw new IllegalStateException("the checkpoint verified a moment ago", e);
        }
        java.util.List<AuditSegments.Segment> closed = AuditSegments.closed(log);
        int from = -1;
        for (int i = 0; i < closed.size(); i++) {
            if (closed.get(i).firstSeq() <= seq) {
                from = i;
            }
        }
        if (from < 0) {
            return active.withProblem(new Problem(-1, "the store's checkpoint (seq " + seq + ") lies in a closed segment"
                    + " that is not there: no " + AuditSegments.pattern(log) + " holds seq " + seq + " — a segment was"
                    + " archived or deleted before the server had checkpointed the segment after it", false, true));
        }
        Path segment = closed.get(from).file();
        Result tail = scanClosedFrom(segment, name, keyProvider, sealed);
        if (tail.firstProblem() != null) {
            Result whole = scanClosed(segment, keyProvider);
            if (whole.firstProblem() == null && whole.lastSeq() < seq) {
                return active.withProblem(new Problem(-1, "the store's checkpoint (seq " + seq + ") lies in a closed"
                        + " segment that is not there: " + segment.getFileName() + " ends at seq " + whole.lastSeq()
                        + " and the segment after it is missing — it was archived or deleted before the server had"
                        + " checkpointed the segment after it", false, true));
            }
            return active.withProblem(inSegment(segment, tail.firstProblem()));
        }
        WriteEpochs epochs = tail.recordedEpochs();
        long bytes = tail.bytesRead();
        long checkpoints = tail.checkpoints();
        Result previous = tail;
        Path previousFile = segment;
        for (int i = from + 1; i <= closed.size(); i++) {
            boolean last = i == closed.size();
            Path file = last ? log : closed.get(i).file();
            Result next = last ? scan(log, keyProvider) : scanClosed(file, keyProvider);
            Problem link = link(previousFile, previous, file, next);
            if (link != null) {
                return next.withProblem(link);
            }
            if (last) {
                return next.after(epochs, bytes, checkpoints);
            }
            if (next.firstProblem() != null) {
                return active.withProblem(inSegment(file, next.firstProblem()));
            }
            epochs = next.resetInFile() ? next.recordedEpochs() : epochs.max(next.recordedEpochs());
            bytes += next.bytesRead();
            checkpoints += next.checkpoints();
            previous = next;
            previousFile = file;
        }
        throw new AssertionError("the loop returns at the active segment");
    }

    /** Null if {@code next}'s header continues from the last record of {@code previous}. */
    static Problem link(Path previousFile, Result previous, Path nextFile, Result next) {
        if (next.chainKey() == null || (next.lineProblem() != null && next.lines() == 0)) {
            return next.firstProblem() == null ? null : inSegment(nextFile, next.firstProblem());
        }
        if (next.base() != previous.lastSeq() || !java.util.Objects.equals(next.basePrev(), previous.lastMac())) {
            return new Problem(1, nextFile.getFileName() + " line 1: its header continues from seq " + next.base()
                    + " but " + previousFile.getFileName() + " ends at seq " + previous.lastSeq()
                    + (next.base() == previous.lastSeq() ? " with another MAC" : "")
                    + " — a segment was cut short, replaced by an older copy, left out or put in the wrong order", false);
        }
        return null;
    }

    private static Problem inSegment(Path segment, Problem p) {
        // A torn last line is only repairable in the active segment, never in a closed one.
        return new Problem(p.line(), segment.getFileName() + ": " + p.message(), false, p.rollback());
    }

    private Result run() throws IOException {
        AnchorRead anchor = readAnchor();
        Problem lineProblem;
        try (LineReader reader = new LineReader(Files.newInputStream(log), ChainCodec.MAX_LINE_BYTES)) {
            lineProblem = scanLines(reader, anchor.seq());
        }
        return result(lineProblem, anchor);
    }

    private Result runFrom(String sealedCheckpoint) throws IOException {
        AnchorRead anchor = readAnchor();
        try (LineReader reader = new LineReader(Files.newInputStream(log), ChainCodec.MAX_LINE_BYTES)) {
            LineReader.Line line = reader.next();
            if (line == null) {
                return result(new Problem(1, "line 1: the file is empty, but the store holds a checkpoint of it", false, true),
                        anchor);
            }
            fileBytes = line.end();
            bytesRead += line.size();
            Problem problem = checkHeader(line, reader);
            if (problem != null) {
                return result(problem, anchor);
            }
        }
        Checkpoint checkpoint;
        try {
            checkpoint = Checkpoint.open(sealedCheckpoint, logName, chainKey);
        } catch (ChainCodec.MalformedRecordException e) {
            return result(new Problem(-1, "the store's checkpoint of this log does not verify: " + e.getMessage()
                    + " — the log was replaced by another one, or the checkpoint row was altered (two servers on one"
                    + " store whose audit logs share a file name also overwrite each other's row: give each its own)",
                    false, true), anchor);
        }
        String at = "the store's checkpoint (seq " + checkpoint.seq() + " at byte " + checkpoint.offset()
                + ", taken " + checkpoint.time() + ")";
        if (checkpoint.seq() <= base) {
            // Taken before this segment began: the caller verifies from the closed segment holding it.
            checkpointInEarlierSegment = true;
            firstSeq = checkpoint.seq();
            return result(null, anchor);
        }
        long size = Files.size(log);
        if (size <= checkpoint.offset()) {
            fileBytes = size;
            return result(new Problem(-1, "the log ends at byte " + size + ", before " + at
                    + " — records were cut from its end, or an older copy of it was put back", false, true), anchor);
        }
        firstSeq = checkpoint.seq();
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
            channel.position(checkpoint.offset());
            LineReader reader = new LineReader(Channels.newInputStream(channel), ChainCodec.MAX_LINE_BYTES,
                    checkpoint.offset(), checkpoint.seq() - base);
            LineReader.Line line = reader.next();
            fileBytes = line.end();
            bytesRead += line.size();
            Problem problem = checkCheckpointRecord(line, checkpoint, at);
            if (problem != null) {
                countRest(reader);
                return result(problem, anchor);
            }
            if (anchor.seq() == checkpoint.seq()) {
                anchoredMacSeen = lastMac;
                anchoredLineSeen = line.number();
            }
            return result(scanEvents(reader, anchor.seq()), anchor);
        }
    }

    private Problem checkCheckpointRecord(LineReader.Line line, Checkpoint checkpoint, String at) {
        String where = "line " + line.number() + " (byte " + line.offset() + ")";
        Map<String, Object> fields = null;
        if (line.terminated() && !line.oversize()) {
            try {
                fields = ChainCodec.parse(line.bytes(), line.length());
            } catch (ChainCodec.MalformedRecordException e) {
                fields = null;
            }
        }
        if (fields == null
                || !ChainCodec.verifyMac(chainKey, ChainCodec.LINE_DOMAIN, fields, ChainCodec.MAC)
                || !Long.valueOf(checkpoint.seq()).equals(fields.get("seq"))
                || !checkpoint.mac().equals(fields.get(ChainCodec.MAC))
                || !FileAuditSink.ACTION_CHECKPOINT.equals(fields.get("action"))) {
            return new Problem(line.number(), where + " is not the checkpoint record named by " + at
                    + " — the log was cut and written again, or replaced by another copy", false, true);
        }
        lines = checkpoint.seq() - base;
        records = checkpoint.seq() - base - 1;
        accept(line, fields, FileAuditSink.ACTION_CHECKPOINT);
        records++;
        checkpoints++;
        recordedEpochs = recordedEpochs.max(checkpoint.epochs());
        return null;
    }

    private record AnchorRead(Optional<Anchor> anchor, Problem problem) {
        long seq() {
            return anchor.map(Anchor::seq).orElse(-1L);
        }
    }

    private AnchorRead readAnchor() throws IOException {
        if (!anchored) {
            return new AnchorRead(Optional.empty(), null);
        }
        try {
            return new AnchorRead(Anchor.read(log), null);
        } catch (ChainCodec.MalformedRecordException e) {
            return new AnchorRead(Optional.empty(), new Problem(-1, "anchor file " + Anchor.fileFor(log).getFileName()
                    + " is unreadable (" + e.getMessage() + ") — it was damaged or edited", false));
        }
    }

    private Result result(Problem lineProblem, AnchorRead anchor) {
        Problem anchorProblem = anchor.problem();
        if (anchorProblem == null && anchor.anchor().isPresent() && chainKey != null) {
            anchorProblem = checkAnchor(anchor.anchor().get());
        }
        if (checkpointInEarlierSegment) {
            anchorProblem = null; // judged once the segments from the checkpoint on are scanned
        }
        return new Result(chainKey, lines, records, lastSeq, lastMac, lastAction, goodBytes, fileBytes,
                lineProblem, anchorProblem, anchor.anchor(), bytesRead, recordedEpochs, checkpoints, base, basePrev,
                wrappedKey, kekId, checkpointInEarlierSegment, resetInFile, created);
    }

    private Problem checkAnchor(Anchor anchor) {
        if (!anchor.verify(chainKey)) {
            return new Problem(-1, "anchor file " + Anchor.fileFor(log).getFileName()
                    + ": MAC mismatch — the anchor was edited or belongs to another log", false);
        }
        if (firstSeq > 1 && anchor.seq() < firstSeq) {
            return new Problem(-1, "anchor file " + Anchor.fileFor(log).getFileName() + " names seq " + anchor.seq()
                    + ", older than the store's checkpoint (seq " + firstSeq + ") — an older anchor was put back", false, true);
        }
        if (anchor.seq() == base && basePrev != null && anchor.mac().equals(basePrev)) {
            // Written just before a segment cut: names the last record of the previous segment,
            // which this segment's header continues from (the MAC above proves the anchor's origin).
            return null;
        }
        if (anchor.seq() < base) {
            return new Problem(-1, "anchor file " + Anchor.fileFor(log).getFileName() + " names seq " + anchor.seq()
                    + ", but this segment starts after seq " + base + " — an older anchor was put back", false, true);
        }
        if (anchor.seq() > lastSeq) {
            return new Problem(lines + 1, "file ends at seq " + lastSeq + " but the anchor says " + anchor.seq()
                    + " — records were removed from the end", false);
        }
        if (!anchor.mac().equals(anchoredMacSeen)) {
            return new Problem(anchoredLineSeen, "line " + anchoredLineSeen + " (seq " + anchor.seq()
                    + "): differs from the record the anchor vouches for — the log was rewritten", false);
        }
        return null;
    }

    private Problem scanLines(LineReader reader, long anchoredSeq) throws IOException {
        LineReader.Line line = reader.next();
        if (line == null) {
            return new Problem(1, "line 1: the file is empty — no audit log header", true);
        }
        fileBytes = line.end();
        bytesRead += line.size();
        Problem problem = checkHeader(line, reader);
        if (problem != null) {
            countRest(reader);
            return problem;
        }
        if (anchoredSeq == base) {
            anchoredMacSeen = lastMac;
            anchoredLineSeen = 1;
        }
        return scanEvents(reader, anchoredSeq);
    }

    private Problem scanEvents(LineReader reader, long anchoredSeq) throws IOException {
        LineReader.Line line;
        Problem problem;
        while ((line = reader.next()) != null) {
            fileBytes = line.end();
            bytesRead += line.size();
            if ((line.number() & 0x3fff) == 0) {
                reportProgress();
            }
            problem = checkEvent(line, reader);
            if (problem != null) {
                countRest(reader);
                return problem;
            }
            if (lastSeq == anchoredSeq) {
                anchoredMacSeen = lastMac;
                anchoredLineSeen = line.number();
            }
        }
        return null;
    }

    private void countRest(LineReader reader) throws IOException {
        LineReader.Line line;
        while ((line = reader.next()) != null) {
            fileBytes = line.end();
            bytesRead += line.size();
        }
    }

    /** A long scan (a large log without a checkpoint) says how far it is, every second. */
    private void reportProgress() {
        long now = System.nanoTime();
        if (now - progressAt < PROGRESS_EVERY_NANOS) {
            return;
        }
        progressAt = now;
        long total;
        try {
            total = Files.size(log);
        } catch (IOException e) {
            total = -1;
        }
        LOG.info("verifying audit log {}: {} MB of {} MB checked", log, fileBytes >> 20, total < 0 ? "?" : total >> 20);
    }

    /** Parses a line, or describes why it cannot be parsed (torn if it is the last line). */
    private Object parseOrProblem(LineReader.Line line, LineReader reader) throws IOException {
        String at = "line " + line.number();
        if (!line.terminated()) {
            return new Problem(line.number(), at + ": incomplete line — truncated record", true);
        }
        if (line.oversize()) {
            return new Problem(line.number(), at + ": longer than " + ChainCodec.MAX_LINE_BYTES
                    + " bytes — not a record written by Tresor", reader.atEnd());
        }
        try {
            return ChainCodec.parse(line.bytes(), line.length());
        } catch (ChainCodec.MalformedRecordException e) {
            return new Problem(line.number(), at + ": " + e.getMessage() + " — the record was damaged or edited",
                    reader.atEnd());
        }
    }

    private Problem checkHeader(LineReader.Line line, LineReader reader) throws IOException {
        Object parsed = parseOrProblem(line, reader);
        if (parsed instanceof Problem problem) {
            return problem;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) parsed;
        if (!ChainCodec.TYPE_HEADER.equals(fields.get("type"))) {
            return new Problem(1, "line 1: not a Tresor audit log header — this is not an audit log, or its start was removed", false);
        }
        if (!(fields.get("format") instanceof Long format) || format != ChainCodec.FORMAT) {
            return new Problem(1, "line 1: audit log format " + fields.get("format")
                    + " is not supported (this version reads format " + ChainCodec.FORMAT + ")", false);
        }
        kekId = fields.get("kekId") instanceof String s ? s : "(none)";
        byte[] wrapped;
        try {
            wrappedKey = (String) fields.get("wrappedKey");
            wrapped = Base64.getDecoder().decode(wrappedKey);
        } catch (RuntimeException e) {
            return new Problem(1, "line 1: the header has no valid wrappedKey — the header was altered", false);
        }
        try {
            TinkRuntime.ensureRegistered();
            // The three-argument parse: Tink 1.24 refuses to parse with ConfigurationV0 passed in.
            // Directly, or through a copy a KEK rotation re-wrapped beside the log (ChainKeys).
            KeysetHandle handle = ChainKeys.open(log, wrapped, keyProvider);
            chainKey = PooledHmac.of(handle);
        } catch (GeneralSecurityException e) {
            return new Problem(1, "line 1: the chain key cannot be unwrapped with KEK " + keyProvider.keyId()
                    + " (the header names " + kekId + "; no copy re-wrapped under it in " + ChainKeys.FILE_NAME
                    + ") — the log was written under another KEK, or its header was altered",
                    false);
        }
        if (!ChainCodec.verifyMac(chainKey, ChainCodec.LINE_DOMAIN, fields, ChainCodec.MAC)) {
            return new Problem(1, "line 1 (header): MAC mismatch — the header was edited", false);
        }
        boolean first = Long.valueOf(0).equals(fields.get("seq")) && !fields.containsKey("prev");
        boolean continuation = fields.get("seq") instanceof Long seq && seq > 0 && fields.get("prev") instanceof String;
        if (!(first || continuation) || !(fields.get("created") instanceof String)) {
            return new Problem(1, "line 1 (header): seq 0, or a later seq with the previous segment's MAC, and a"
                    + " creation time expected — the header is malformed", false);
        }
        base = (Long) fields.get("seq");
        try {
            created = Instant.parse((String) fields.get("created"));
        } catch (DateTimeParseException e) {
            return new Problem(1, "line 1 (header): creation time '" + fields.get("created") + "' is not a time", false);
        }
        basePrev = continuation ? (String) fields.get("prev") : null;
        accept(line, fields, null);
        return null;
    }

    private Problem checkEvent(LineReader.Line line, LineReader reader) throws IOException {
        Object parsed = parseOrProblem(line, reader);
        if (parsed instanceof Problem problem) {
            return problem;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) parsed;
        long n = line.number();
        String at = fields.get("seq") instanceof Long seq ? "line " + n + " (seq " + seq + ")" : "line " + n;
        // The MAC is checked first: it tells an edited record apart from an intact record that is
        // merely in the wrong place (dropped or reordered neighbours), which the checks below name.
        if (!ChainCodec.verifyMac(chainKey, ChainCodec.LINE_DOMAIN, fields, ChainCodec.MAC)) {
            return new Problem(n, at + ": MAC mismatch — the record was edited", false);
        }
        if (!ChainCodec.TYPE_EVENT.equals(fields.get("type"))) {
            return new Problem(n, at + ": unexpected record type " + fields.get("type")
                    + " — records from elsewhere were spliced in", false);
        }
        long expected = lastSeq + 1;
        if (!(fields.get("seq") instanceof Long seq)) {
            return new Problem(n, at + ": no seq — the record is malformed", false);
        }
        if (seq != expected) {
            return new Problem(n, "line " + n + ": seq " + expected + " expected, found " + seq
                    + " — a record was dropped or reordered", false);
        }
        if (!lastMac.equals(fields.get("prev"))) {
            return new Problem(n, at + ": prev does not match the MAC of line " + (n - 1)
                    + " — records were removed, reordered or spliced in", false);
        }
        String missing = missingEventField(fields);
        if (missing != null) {
            return new Problem(n, at + ": field '" + missing + "' is missing or invalid — the record is malformed", false);
        }
        String action = (String) fields.get("action");
        accept(line, fields, action);
        records++;
        if (FileAuditSink.ACTION_CHECKPOINT.equals(action)) {
            checkpoints++;
            WriteEpochs.parseDetail((String) fields.get("detail")).ifPresent(e -> recordedEpochs = recordedEpochs.max(e));
        } else if (FileAuditSink.ACTION_ROLLBACK_ACCEPTED.equals(action)) {
            // The operator accepted the store as it is: epochs recorded before no longer bind it.
            recordedEpochs = WriteEpochs.NONE;
            resetInFile = true;
        }
        return null;
    }

    private static String missingEventField(Map<String, Object> fields) {
        if (!(fields.get("time") instanceof String time)) {
            return "time";
        }
        try {
            Instant.parse(time);
        } catch (DateTimeParseException e) {
            return "time";
        }
        if (!(fields.get("action") instanceof String)) {
            return "action";
        }
        if (!(fields.get("outcome") instanceof String)) {
            return "outcome";
        }
        if (!(fields.get("status") instanceof Long)) {
            return "status";
        }
        return null;
    }

    private void accept(LineReader.Line line, Map<String, Object> fields, String action) {
        lines++;
        lastSeq = (Long) fields.get("seq");
        lastMac = (String) fields.get(ChainCodec.MAC);
        lastAction = action;
        goodBytes = line.end();
    }
}
