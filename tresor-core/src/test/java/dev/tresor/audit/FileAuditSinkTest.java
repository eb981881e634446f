package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static dev.tresor.audit.AuditFixtures.writeClosedLog;
import static dev.tresor.audit.AuditFixtures.writeLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAuditSinkTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private LocalKeyProvider kek;
    private Path log;

    @BeforeEach
    void setUp() {
        kek = newKek(dir, "kek.json");
        log = dir.resolve("audit").resolve("audit.log");
    }

    @Test
    void aNewLogStartsWithAChainedHeaderHoldingOnlyTheWrappedKey() throws IOException {
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            assertThat(sink.name()).isEqualTo("file:" + log.toAbsolutePath());
        }
        JsonNode header = JSON.readTree(lines(log).getFirst());

        assertThat(header.get("type").asText()).isEqualTo("header");
        assertThat(header.get("format").asInt()).isEqualTo(1);
        assertThat(header.get("seq").asLong()).isZero();
        assertThat(header.get("kekId").asText()).isEqualTo(kek.keyId());
        assertThat(header.get("wrappedKey").binaryValue()).isNotEmpty();
        assertThat(header.get("mac").binaryValue()).isNotEmpty();
        assertThat(Instant.parse(header.get("created").asText())).isNotNull();
        assertThat(Files.getPosixFilePermissions(log)).containsExactlyInAnyOrderElementsOf(FileAuditSink.FILE_PERMISSIONS);
    }

    @Test
    void appendReturnsOnlyOnceTheRecordIsInTheFileChainedToItsPredecessor() throws IOException {
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            for (int i = 1; i <= 3; i++) {
                sink.append(read(i));
                // No close, no flush: the record must already be in the file, because a killed
                // server must not lose a record of a request it answered.
                assertThat(lines(log)).hasSize(i + 1);
            }
            List<String> lines = lines(log);
            for (int i = 1; i <= 3; i++) {
                JsonNode record = JSON.readTree(lines.get(i));
                JsonNode previous = JSON.readTree(lines.get(i - 1));
                assertThat(record.get("type").asText()).isEqualTo("event");
                assertThat(record.get("seq").asLong()).isEqualTo(i);
                assertThat(record.get("prev").asText()).isEqualTo(previous.get("mac").asText());
                assertThat(record.get("requestId").asText()).isEqualTo("req-" + i);
                assertThat(record.get("version").asInt()).isEqualTo(1);
                assertThat(record.get("status").asInt()).isEqualTo(200);
                assertThat(record.get("detail").isNull()).isTrue();
            }
        }
    }

    @Test
    void fsyncIsBatchedAndItsTimeRecorded() throws Exception {
        try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(20))) {
            Instant created = sink.lastFsync();
            assertThat(created).isNotNull();
            Thread.sleep(5);
            sink.append(read(1));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!sink.lastFsync().isAfter(created) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(sink.lastFsync()).isAfter(created);
            assertThat(Files.readString(dir.resolve("audit/audit.log.anchor"))).contains("\"seq\":1,");
        }
    }

    @Test
    void withAZeroIntervalAppendReturnsAfterTheFsyncAndAnchor() throws IOException {
        try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ZERO)) {
            for (int i = 1; i <= 5; i++) {
                sink.append(read(i));
                assertThat(Files.readString(dir.resolve("audit/audit.log.anchor"))).contains("\"seq\":" + i + ",");
            }
        }
    }

    @Test
    void closeWritesACloseRecordAndRefusesFurtherAppends() throws IOException {
        FileAuditSink sink = new FileAuditSink(log, kek);
        sink.append(read(1));
        sink.close();
        sink.close(); // idempotent

        JsonNode last = JSON.readTree(lines(log).getLast());
        assertThat(last.get("action").asText()).isEqualTo("audit.close");
        assertThat(last.get("seq").asLong()).isEqualTo(2);
        assertThat(AuditVerifier.verify(log, kek)).isEqualTo(new VerificationResult(true, 2, -1, null, true, 1, 1));
        assertThat(sink.healthy()).isFalse();
        assertThatThrownBy(() -> sink.append(read(2))).isInstanceOf(IOException.class).hasMessageEndingWith("is closed");
    }

    @Test
    void reopeningContinuesTheChainAndRecordsTheRestart() throws IOException {
        writeClosedLog(log, kek, 5);
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            sink.append(read(6));
        }

        List<String> lines = lines(log);
        // header, 1..5, close(6), open(7), event(8), close(9)
        assertThat(lines).hasSize(10);
        JsonNode open = JSON.readTree(lines.get(7));
        assertThat(open.get("action").asText()).isEqualTo("audit.open");
        assertThat(open.get("detail").asText()).isEqualTo("log reopened after a clean close");
        assertThat(JSON.readTree(lines.get(8)).get("seq").asLong()).isEqualTo(8);
        assertThat(AuditVerifier.verify(log, kek)).isEqualTo(new VerificationResult(true, 9, -1, null, true, 1, 1));
    }

    @Test
    void aTornLastLineIsCutOffAndTheRepairRecorded() throws IOException {
        writeClosedLog(log, kek, 8);
        // A later writer died in the middle of a write: half a record, no newline.
        String partial = "{\"type\":\"event\",\"seq\":10,\"time\":\"2025-03-01T10:";
        Files.writeString(log, partial, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        assertThat(AuditVerifier.verify(log, kek).problem()).isEqualTo("line 11: incomplete line — truncated record");

        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            sink.append(read(9));
        }

        List<String> lines = lines(log);
        JsonNode repair = JSON.readTree(lines.get(10));
        assertThat(repair.get("action").asText()).isEqualTo("audit.repair");
        assertThat(repair.get("seq").asLong()).isEqualTo(10);
        assertThat(repair.get("detail").asText())
                .startsWith("dropped " + partial.length() + " bytes of an incomplete last line (line 11)")
                .contains("seq 9 was the last intact record");
        assertThat(JSON.readTree(lines.get(11)).get("action").asText()).isEqualTo("audit.open");
        assertThat(lines).noneMatch(line -> line.startsWith(partial) && !line.contains("\"mac\""));
        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isTrue();
    }

    @Test
    void anUnparsableLastLineIsAlsoRepaired() throws IOException {
        writeClosedLog(log, kek, 3);
        Files.write(log, new byte[] {0, 0, 0, 0, '\n'}, StandardOpenOption.APPEND);

        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            sink.append(read(4));
        }

        assertThat(lines(log)).anyMatch(line -> line.contains("\"audit.repair\"") && line.contains("dropped 5 bytes"));
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aTornHeaderStartsAFreshChainAndRecordsTheRepair() throws IOException {
        Files.createDirectories(log.getParent());
        Files.writeString(log, "{\"type\":\"header\",\"for");

        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            sink.append(read(1));
        }

        List<String> lines = lines(log);
        assertThat(JSON.readTree(lines.get(0)).get("type").asText()).isEqualTo("header");
        assertThat(JSON.readTree(lines.get(1)).get("action").asText()).isEqualTo("audit.repair");
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aBrokenChainIsNeverContinued() throws IOException {
        writeClosedLog(log, kek, 8);
        List<String> lines = lines(log);
        lines.set(4, lines.get(4).replace("\"outcome\":\"allowed\"", "\"outcome\":\"denied\""));
        writeLines(log, lines);
        byte[] before = Files.readAllBytes(log);

        assertThatThrownBy(() -> new FileAuditSink(log, kek))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("line 5 (seq 4): MAC mismatch — the record was edited")
                .hasMessageContaining("tresor audit verify");
        assertThat(Files.readAllBytes(log)).isEqualTo(before);
    }

    @Test
    void aWellFormedButForgedLastLineIsNotMistakenForATornWrite() throws IOException {
        writeClosedLog(log, kek, 3);
        List<String> lines = lines(log);
        lines.set(lines.size() - 1, lines.getLast().replace("log closed by its writer", "nothing to see"));
        writeLines(log, lines);

        assertThatThrownBy(() -> new FileAuditSink(log, kek))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("line 5 (seq 4): MAC mismatch");
    }

    @Test
    void recordsCutFromTheEndRefuseTheOpen() throws IOException {
        writeClosedLog(log, kek, 8);
        writeLines(log, lines(log).subList(0, 6));

        assertThatThrownBy(() -> new FileAuditSink(log, kek))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("file ends at seq 5 but the anchor says 9");
    }

    @Test
    void aDeletedLogWhoseAnchorRemainsIsNotSilentlyRecreated() throws IOException {
        writeClosedLog(log, kek, 2);
        Files.delete(log);

        assertThatThrownBy(() -> new FileAuditSink(log, kek))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("is missing but its anchor audit.log.anchor exists");
        assertThat(log).doesNotExist();
    }

    @Test
    void aLogUnderAnotherKekIsRefused() throws IOException {
        writeClosedLog(log, kek, 2);

        assertThatThrownBy(() -> new FileAuditSink(log, newKek(dir, "other.json")))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("cannot be unwrapped with KEK");
    }

    @Test
    void onlyOneWriterMayHoldALog() throws IOException {
        try (FileAuditSink first = new FileAuditSink(log, kek)) {
            assertThatThrownBy(() -> new FileAuditSink(log, kek))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("is in use by another writer");
            first.append(read(1));
        }
        try (FileAuditSink again = new FileAuditSink(log, kek)) {
            again.append(read(2));
        }
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aPathThatCannotHoldAFileFailsConstruction() throws IOException {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");

        assertThatThrownBy(() -> new FileAuditSink(notADirectory.resolve("audit.log"), kek))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cannot open audit log " + notADirectory.resolve("audit.log"));
    }

    @Test
    void aDeviceIsNotAcceptedAsALog() throws IOException {
        Files.createDirectories(log.getParent());
        Files.createSymbolicLink(log, Path.of("/dev/null"));

        assertThatThrownBy(() -> new FileAuditSink(log, kek))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is not a regular file");
    }

    @Test
    void afterAFailedFsyncEveryAppendIsRefused() throws IOException {
        FileAuditSink sink = new FileAuditSink(log, kek, Duration.ZERO);
        sink.append(read(1));
        // The anchor can no longer be replaced: its temp file's path is taken by a directory.
        Files.createDirectory(dir.resolve("audit/audit.log.anchor.tmp"));

        assertThatThrownBy(() -> sink.append(read(2))).isInstanceOf(IOException.class)
                .hasMessageContaining("fsync of audit log").hasMessageContaining("anchor");
        assertThat(sink.healthy()).isFalse();
        assertThatThrownBy(() -> sink.append(read(3))).isInstanceOf(IOException.class)
                .hasMessageContaining("is unusable after an earlier failure");
        assertThatThrownBy(sink::close).isInstanceOf(IOException.class).hasMessageContaining("was not closed cleanly");
        // The lock is released all the same: after removing the obstacle the log opens, verifies, and continues.
        Files.delete(dir.resolve("audit/audit.log.anchor.tmp"));
        try (FileAuditSink again = new FileAuditSink(log, kek)) {
            again.append(read(4));
        }
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void awkwardFieldValuesRoundTripAndStillVerify() throws IOException {
        String lone = "bad\uD800surrogate";
        String control = "line\nbreak\t\"quoted\"\u0000 \u2028 é 😀";
        String huge = "x".repeat(10_000);
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            sink.append(new AuditEvent(AuditFixtures.T0, lone, control, "secret.read", huge, null, "denied", 403, null, null));
        }

        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
        var record = AuditQuery.read(log, null, null, null, 10).getFirst();
        assertThat(record.get("requestId")).isEqualTo("bad\uFFFDsurrogate");
        assertThat(record.get("client")).isEqualTo(control);
        assertThat((String) record.get("secret")).hasSize(ChainCodec.MAX_FIELD_CHARS + 1).endsWith("…");
        assertThat(record.get("version")).isNull();
        assertThat(lines(log)).hasSize(3);
    }

    @Test
    void sixteenThreadsAppendingConcurrentlyProduceOneVerifyingChain() throws Exception {
        int threads = 16;
        int perThread = 500;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        sink.append(new AuditEvent(Instant.now(), "t" + thread + "-" + i, "client-" + thread,
                                "secret.read", "db/" + thread, i, "allowed", 200, "10.0.0.1", null));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.records()).isEqualTo(threads * perThread + 1);
        assertThat(result.cleanlyClosed()).isTrue();
        List<String> lines = lines(log);
        Set<String> requestIds = new HashSet<>();
        long expectedSeq = 1;
        for (String line : lines.subList(1, lines.size() - 1)) {
            JsonNode record = JSON.readTree(line);
            assertThat(record.get("seq").asLong()).isEqualTo(expectedSeq++);
            requestIds.add(record.get("requestId").asText());
        }
        assertThat(requestIds).hasSize(threads * perThread);
        // Each thread's records appear in the order that thread appended them.
        for (int t = 0; t < threads; t++) {
            String prefix = "\"requestId\":\"t" + t + "-";
            List<Integer> order = lines.stream().filter(l -> l.contains(prefix))
                    .map(l -> Integer.parseInt(l.substring(l.indexOf(prefix) + prefix.length(), l.indexOf('"', l.indexOf(prefix) + prefix.length()))))
                    .toList();
            assertThat(order).isSorted().hasSize(perThread);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(60) // a record left behind would wait forever
    void recordsHandedOverToAWriterThreadAreAllWritten() throws Exception {
        // No appender writes a batch itself: every batch goes through the hand-over thread, the
        // path an appender takes after its rounds when records keep arriving.
        int threads = 8;
        int perThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(50), java.time.Clock.systemUTC(), 1024, 0)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        sink.appendAsync(new AuditEvent(Instant.now(), "h" + thread + "-" + i, "c", "secret.read", "db/x",
                                1, "allowed", 200, null, null), Runnable::run).get(30, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isTrue();
        assertThat(lines(log).stream().filter(l -> l.contains("\"requestId\":\"h")).count()).isEqualTo(threads * perThread);
    }

    @Test
    void anInterruptedAppenderStillWritesAndLeavesTheLogUsable() throws Exception {
        // Any request thread may be the one writing the batch. A FileChannel would be closed by the
        // interrupt (ClosedByInterruptException) and the log would refuse every record after it.
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            Thread.currentThread().interrupt();
            try {
                sink.appendAsync(read(1), Runnable::run).get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // get() saw the interrupt before the already-completed future: look again uninterrupted
            } finally {
                Thread.interrupted();
            }
            sink.append(read(2));
            assertThat(sink.healthy()).isTrue();
        }
        List<String> lines = lines(log);
        assertThat(lines).anyMatch(l -> l.contains("\"req-1\"")).anyMatch(l -> l.contains("\"req-2\""));
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void appendAsyncOnAFullQueueFallsBackToABlockingWriteAndLosesNothing() throws Exception {
        java.util.concurrent.atomic.AtomicInteger fallbacks = new java.util.concurrent.atomic.AtomicInteger();
        int threads = 8;
        int records = 4_000;
        List<java.util.concurrent.CompletableFuture<?>> writes = java.util.Collections.synchronizedList(new ArrayList<>());
        // Appenders write the queue themselves: it overflows only while one of them is writing and
        // others append meanwhile, so several threads append at once.
        ExecutorService appenders = Executors.newFixedThreadPool(threads);
        try (ExecutorService blocking = Executors.newVirtualThreadPerTaskExecutor();
             FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(50), java.time.Clock.systemUTC(), 1,
                     FileAuditSink.ROUNDS_PER_APPENDER)) {
            java.util.concurrent.Executor counting = command -> {
                fallbacks.incrementAndGet();
                blocking.execute(command);
            };
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * (records / threads);
                done.add(appenders.submit(() -> {
                    start.await();
                    for (int i = first; i < first + records / threads; i++) {
                        writes.add(sink.appendAsync(read(i), counting));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
            java.util.concurrent.CompletableFuture.allOf(writes.toArray(java.util.concurrent.CompletableFuture[]::new))
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            appenders.shutdownNow();
        }

        assertThat(fallbacks.get()).as("a queue of one must overflow under %d appends", records).isPositive();
        Set<String> ids = new HashSet<>();
        for (String line : lines(log)) {
            JsonNode node = JSON.readTree(line);
            if (node.hasNonNull("requestId") && node.get("requestId").asText().startsWith("req-")) {
                ids.add(node.get("requestId").asText());
            }
        }
        assertThat(ids).hasSize(records);
        VerificationResult verified = AuditVerifier.verify(log, kek);
        assertThat(verified.ok()).isTrue();
        assertThat(verified.cleanlyClosed()).isTrue();
    }
}
