package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static dev.tresor.audit.AuditFixtures.writeLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file sink cut into segments ({@code audit-<first-seq>.log}, the one being written keeps its
 * name): cuts under concurrent load keep one unbroken chain across files; a segment removed,
 * cut short, replaced, renamed or left out is named by {@code verify}; start-up from a checkpoint
 * in a closed segment reads only from there; a crash in the middle of a cut is settled at the next start.
 */
class AuditSegmentsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SegmentPolicy SMALL = new SegmentPolicy(64 * 1024, null);
    private static final WriteEpochs EPOCHS = new WriteEpochs(2, 4);

    @TempDir
    Path dir;

    private LocalKeyProvider kek;
    private Path log;

    @BeforeEach
    void setUp() {
        kek = newKek(dir, "kek.json");
        log = dir.resolve("audit").resolve("audit.log");
    }

    private FileAuditSink open(SegmentPolicy segments) throws IOException {
        return new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(), AuditStart.unanchored(), segments);
    }

    private FileAuditSink openAnchored(Optional<String> checkpoint, String acceptRollback) throws IOException {
        return new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                AuditStart.of(checkpoint, true, EPOCHS, acceptRollback), SMALL);
    }

    private static AuditEvent at(Instant time, int i) {
        return new AuditEvent(time, "req-" + i, "alice", "secret.read", "db/openemr", 1, "allowed", 200, "10.0.0.1", null);
    }

    private List<AuditSegments.Segment> closed() throws IOException {
        return AuditSegments.closed(log);
    }

    private static JsonNode json(String line) throws IOException {
        return JSON.readTree(line);
    }

    private void writeConcurrently(FileAuditSink sink, int threads, int perThread) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        sink.append(read(base + i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    @Test
    void cutsUnderConcurrentLoadKeepOneUnbrokenChainAcrossSegments() throws Exception {
        int threads = 8;
        int perThread = 1_500;
        try (FileAuditSink sink = open(SMALL)) {
            writeConcurrently(sink, threads, perThread);
        }
        List<AuditSegments.Segment> segments = closed();
        assertThat(segments).hasSizeGreaterThan(10);
        long expectedFirst = 1;
        for (AuditSegments.Segment s : segments) {
            // each closed segment is named after its first record, and holds about the configured size
            assertThat(s.firstSeq()).isEqualTo(expectedFirst);
            List<String> segmentLines = lines(s.file());
            JsonNode header = json(segmentLines.getFirst());
            assertThat(header.get("type").asText()).isEqualTo("header");
            assertThat(header.get("seq").asLong()).isEqualTo(expectedFirst - 1);
            assertThat(json(segmentLines.get(1)).get("seq").asLong()).isEqualTo(expectedFirst);
            assertThat(Files.size(s.file())).isLessThan(SMALL.maxBytes() + 2 * 1024 * 1024);
            expectedFirst = json(segmentLines.getLast()).get("seq").asLong() + 1;
        }
        JsonNode activeHeader = json(lines(log).getFirst());
        assertThat(activeHeader.get("seq").asLong()).isEqualTo(expectedFirst - 1);
        assertThat(activeHeader.get("prev").asText())
                .isEqualTo(json(lines(segments.getLast().file()).getLast()).get("mac").asText());

        VerificationResult all = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(all.ok()).as(all.problem()).isTrue();
        assertThat(all.segments()).isEqualTo(segments.size() + 1);
        assertThat(all.records()).isEqualTo(threads * perThread + 1L); // and the close record
        assertThat(all.cleanlyClosed()).isTrue();
        // the segment being written verifies on its own too (against its anchor)
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aReopenedLogContinuesTheChainInANewSegmentAndOlderSegmentsMayBeArchived() throws Exception {
        try (FileAuditSink sink = open(SMALL)) {
            for (int i = 0; i < 1_000; i++) {
                sink.append(read(i));
            }
        }
        try (FileAuditSink sink = open(SMALL)) {
            for (int i = 0; i < 1_000; i++) {
                sink.append(read(i));
            }
        }
        assertThat(AuditVerifier.verify(List.of(log.getParent()), kek).ok()).isTrue();
        // Retention: the operator moves the oldest segments away; what is left still verifies, from a later seq.
        List<AuditSegments.Segment> segments = closed();
        Path archive = Files.createDirectories(dir.resolve("archive"));
        for (AuditSegments.Segment s : segments.subList(0, 3)) {
            Files.move(s.file(), archive.resolve(s.file().getFileName()));
        }
        VerificationResult rest = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(rest.ok()).as(rest.problem()).isTrue();
        assertThat(rest.firstSeq()).isEqualTo(segments.get(3).firstSeq());
        // ...and the archive with the live folder is the whole chain again
        List<Path> both = new ArrayList<>(List.of(archive, log.getParent()));
        VerificationResult whole = AuditVerifier.verify(both, kek);
        assertThat(whole.ok()).as(whole.problem()).isTrue();
        assertThat(whole.firstSeq()).isEqualTo(1);
    }

    private List<AuditSegments.Segment> writeSegments() throws Exception {
        try (FileAuditSink sink = open(SMALL)) {
            for (int i = 0; i < 2_000; i++) {
                sink.append(read(i));
            }
        }
        List<AuditSegments.Segment> segments = closed();
        assertThat(segments).hasSizeGreaterThanOrEqualTo(4);
        return segments;
    }

    @Test
    void aMissingMiddleSegmentIsNamed() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        Files.delete(segments.get(2).file());
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains(segments.get(3).file().getFileName().toString())
                .contains("continues from seq " + (segments.get(3).firstSeq() - 1))
                .contains(segments.get(1).file().getFileName() + " ends at seq " + (segments.get(2).firstSeq() - 1));
    }

    @Test
    void aClosedSegmentCutShortAtALineBoundaryIsNamed() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        Path victim = segments.get(1).file();
        List<String> victimLines = lines(victim);
        writeLines(victim, victimLines.subList(0, victimLines.size() - 3));
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains(segments.get(2).file().getFileName().toString())
                .contains(victim.getFileName() + " ends at seq " + (segments.get(2).firstSeq() - 4));
    }

    @Test
    void aClosedSegmentReplacedByAnotherChainsSegmentIsNamed() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        Path other = dir.resolve("other").resolve("audit.log");
        Path otherFirst;
        try (FileAuditSink sink = new FileAuditSink(other, kek, Duration.ofMillis(5), Clock.systemUTC(),
                AuditStart.unanchored(), SMALL)) {
            for (int i = 0; i < 2_000; i++) {
                sink.append(read(i));
            }
        }
        otherFirst = AuditSegments.closed(other).get(1).file();
        Files.copy(otherFirst, segments.get(1).file(), StandardCopyOption.REPLACE_EXISTING);
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).isFalse();
        // the same KEK wraps another chain key: the copied segment's records do not verify under this chain
        assertThat(r.problem()).containsAnyOf(segments.get(1).file().getFileName().toString(),
                segments.get(2).file().getFileName().toString());
    }

    @Test
    void swappedSegmentNamesAreNamed() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        Path a = segments.get(1).file();
        Path b = segments.get(2).file();
        Path tmp = dir.resolve("swap");
        Files.move(a, tmp);
        Files.move(b, a);
        Files.move(tmp, b);
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains("renamed or swapped");
    }

    @Test
    void aRecordEditedInAClosedSegmentIsNamedWithItsSegment() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        Path victim = segments.get(2).file();
        List<String> victimLines = new ArrayList<>(lines(victim));
        int edited = 5;
        while (!victimLines.get(edited).contains("\"client\":\"alice\"")) {
            edited++;
        }
        victimLines.set(edited, victimLines.get(edited).replace("\"client\":\"alice\"", "\"client\":\"mallory\""));
        writeLines(victim, victimLines);
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).startsWith(victim.getFileName() + ": line " + (edited + 1)).contains("MAC mismatch");
    }

    @Test
    void startUpFromACheckpointInAClosedSegmentReadsOnlyFromThereAndRefusesWhenThatSegmentIsGone() throws Exception {
        String checkpoint;
        try (FileAuditSink sink = openAnchored(Optional.empty(), null)) {
            for (int i = 0; i < 2_000; i++) {
                sink.append(read(i));
            }
            checkpoint = sink.checkpoint(EPOCHS).record();
            // a few cuts after the checkpoint, and no checkpoint since (as after a crash)
            for (int i = 0; i < 1_500; i++) {
                sink.append(read(i));
            }
        }
        long total = 0;
        for (AuditSegments.Segment s : closed()) {
            total += Files.size(s.file());
        }
        total += Files.size(log);
        long verified;
        try (FileAuditSink sink = openAnchored(Optional.of(checkpoint), null)) {
            verified = sink.bytesVerifiedAtOpen();
            sink.append(read(1));
        }
        assertThat(verified).isPositive().isLessThan(total / 2);

        long checkpointSeq = Checkpoint.open(checkpoint, "audit.log",
                ChainScan.scan(log, kek).chainKey()).seq();
        AuditSegments.Segment holding = closed().stream().filter(s -> s.firstSeq() <= checkpointSeq)
                .reduce((x, y) -> y).orElseThrow();
        Path aside = dir.resolve(holding.file().getFileName());
        Files.move(holding.file(), aside);
        assertThatThrownBy(() -> openAnchored(Optional.of(checkpoint), null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("lies in a closed segment that is not there")
                .hasMessageContaining("--accept-rollback");
        Files.move(aside, holding.file());
        // Cut short after the checkpoint: the next segment's header no longer continues from it.
        List<String> holdingLines = lines(holding.file());
        writeLines(holding.file(), holdingLines.subList(0, holdingLines.size() - 1));
        assertThatThrownBy(() -> openAnchored(Optional.of(checkpoint), null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("continues from seq");
    }

    @Test
    void aCutInterruptedBeforeItsRenamesIsDiscardedAndOneBetweenThemIsCompleted() throws Exception {
        writeSegments();
        // Before the renames: a complete next segment lies beside the active one; it is not used.
        Path next = AuditSegments.nextFile(log);
        Files.writeString(next, "{\"type\":\"header\"}\n");
        try (FileAuditSink sink = open(SMALL)) {
            sink.append(read(1));
        }
        assertThat(next).doesNotExist();
        assertThat(AuditVerifier.verify(List.of(log.getParent()), kek).ok()).isTrue();

        // Between the renames: the closed segment has its name, the new one is still `.next`.
        Files.move(log, next);
        try (FileAuditSink sink = open(SMALL)) {
            sink.append(read(2));
        }
        assertThat(next).doesNotExist();
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).as(r.problem()).isTrue();
    }

    @Test
    void anAnchorWrittenJustBeforeACutNamingTheClosedSegmentsLastRecordIsAccepted() throws Exception {
        List<AuditSegments.Segment> segments = writeSegments();
        // The state right after a cut's renames, before the anchor names the new header: the new
        // segment holds only its header, the anchor still names the closed segment's last record.
        AuditSegments.Segment last = segments.getLast();
        ChainScan.Result closedScan = ChainScan.scanClosed(last.file(), kek);
        Files.delete(log);
        Map<String, Object> header = ChainCodec.headerFields(closedScan.kekId(), closedScan.wrappedKey(),
                Instant.now(), closedScan.lastSeq(), closedScan.lastMac());
        String mac = ChainCodec.computeMac(closedScan.chainKey(), ChainCodec.LINE_DOMAIN, header);
        try (var out = Files.newOutputStream(log)) {
            ChainCodec.writeLine(out, header, ChainCodec.MAC, mac);
        }
        Anchor.write(log, closedScan.chainKey(), closedScan.lastSeq(), closedScan.lastMac(), Instant.now());
        AtomicReference<Long> firstNew = new AtomicReference<>();
        try (FileAuditSink sink = open(SMALL)) {
            sink.append(read(7));
            firstNew.set(sink.writtenSeq());
        }
        assertThat(firstNew.get()).isGreaterThan(closedScan.lastSeq());
        VerificationResult r = AuditVerifier.verify(List.of(log.getParent()), kek);
        assertThat(r.ok()).as(r.problem()).isTrue();

        // An anchor naming some other record of the closed segment is still refused.
        Anchor.write(log, closedScan.chainKey(), closedScan.lastSeq() - 1, closedScan.lastMac(), Instant.now());
        assertThatThrownBy(() -> open(SMALL)).isInstanceOf(IOException.class).hasMessageContaining("anchor");
    }

    @Test
    void segmentsAreCutByAgeToo() throws Exception {
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-06T00:00:00Z"));
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
        try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5), clock, AuditStart.unanchored(),
                new SegmentPolicy(Long.MAX_VALUE, Duration.ofHours(24)))) {
            sink.append(at(now.get(), 1));
            now.set(now.get().plus(Duration.ofHours(23)));
            sink.append(at(now.get(), 2));
            assertThat(closed()).isEmpty();
            now.set(now.get().plus(Duration.ofHours(2)));
            sink.append(at(now.get(), 3)); // the first record after 24 h: written, then the segment is cut
            assertThat(closed()).hasSize(1);
            sink.append(at(now.get(), 4));
        }
        assertThat(closed().getFirst().file().getFileName().toString()).isEqualTo("audit-1.log");
        assertThat(AuditVerifier.verify(List.of(log.getParent()), kek).ok()).isTrue();
        // GET /v1/audit reads across segments, newest first, with a cursor for older pages
        AuditQuery.Page newest = AuditQuery.read(log, null, null, null, 2, null);
        // seq 5 is the close record
        assertThat(newest.records()).extracting(r -> r.get("seq")).containsExactly(4L, 5L);
        AuditQuery.Page older = AuditQuery.read(log, null, null, null, 2, newest.next());
        assertThat(older.records()).extracting(r -> r.get("seq")).containsExactly(2L, 3L);
        AuditQuery.Page oldest = AuditQuery.read(log, null, null, null, 10, older.next());
        assertThat(oldest.records()).extracting(r -> r.get("seq")).containsExactly(1L);
        assertThat(oldest.next()).isNull();
        AuditQuery.Page recent = AuditQuery.read(log, Instant.parse("2026-12-07T00:30:00Z"), null, null, 10, null);
        assertThat(recent.records()).extracting(r -> r.get("seq")).containsExactly(3L, 4L, 5L);
    }
}
