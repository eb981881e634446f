package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.writeClosedLog;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repair of a torn last line must itself survive a crash: at no point may the torn bytes be
 * gone from the file while the record of their removal is not in it, or a second crash during
 * start-up would erase the evidence that records were lost.
 */
class AuditRepairCrashTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** What a write cut short by SIGKILL leaves: the start of a record, no newline. */
    private static final String TORN = "{\"type\":\"event\",\"seq\":7,\"time\":\"2025-03-01T10:00:07Z\",\"requestId\":\"req-7\",\"cli";

    @TempDir
    Path dir;

    /** A start-up that dies at its n-th look at the clock, once; later looks succeed. */
    private static final class CrashingClock extends Clock {
        private final int crashAt;
        private final AtomicInteger calls = new AtomicInteger();

        CrashingClock(int crashAt) {
            this.crashAt = crashAt;
        }

        @Override
        public Instant instant() {
            if (calls.incrementAndGet() == crashAt) {
                throw new IllegalStateException("simulated crash at clock call " + crashAt);
            }
            return Instant.now();
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @Test
    void aRepairInterruptedAtAnyStepIsStillRecordedByTheNextStart() throws IOException {
        for (int crashAt = 1; crashAt <= 8; crashAt++) {
            Path log = dir.resolve("run-" + crashAt).resolve("audit.log");
            LocalKeyProvider kek = newKek(dir, "kek-" + crashAt + ".json");
            writeClosedLog(log, kek, 5);
            Files.writeString(log, TORN, StandardCharsets.UTF_8, StandardOpenOption.APPEND);

            try {
                new FileAuditSink(log, kek, Duration.ofMillis(5), new CrashingClock(crashAt)).close();
            } catch (IOException | RuntimeException interrupted) {
                // The start-up died part-way; the file is whatever that left behind.
            }
            try (FileAuditSink reopened = new FileAuditSink(log, kek, Duration.ofMillis(5))) {
                reopened.append(AuditFixtures.read(100));
            }

            List<String> lines = lines(log);
            VerificationResult result = AuditVerifier.verify(log, kek);
            assertThat(result.ok()).as("crash at clock call %d: %s", crashAt, result.problem()).isTrue();
            assertThat(lines).as("crash at clock call %d", crashAt)
                    .anyMatch(line -> line.contains("\"action\":\"audit.repair\"")
                            && line.contains("dropped " + TORN.length() + " bytes of an incomplete last line (line 8)"));
            assertThat(lines).noneMatch(line -> line.contains("\"cli") && !line.contains("\"mac\""));
        }
    }

    @Test
    void aRepairCutShortBetweenWritingItsRecordAndCuttingTheRestIsRepairedAgain() throws IOException {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path log = dir.resolve("audit.log");
        Path anchor = Anchor.fileFor(log);
        writeClosedLog(log, kek, 5);
        // A long torn tail: longer than the repair record that will be written over it.
        String tornTail = TORN + "x".repeat(3000);
        Files.writeString(log, tornTail, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        byte[] torn = Files.readAllBytes(log);
        byte[] anchorBefore = Files.readAllBytes(anchor);
        int good = torn.length - tornTail.length();

        new FileAuditSink(log, kek, Duration.ofMillis(5)).close();
        List<String> repaired = lines(log);
        String repairLine = repaired.get(7);
        assertThat(JSON.readTree(repairLine).get("action").asText()).isEqualTo("audit.repair");

        // The state a crash right after the record's write (before the cut) leaves: the intact
        // prefix, the repair record, then what remains of the torn bytes; the anchor as it was.
        byte[] record = (repairLine + "\n").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream state = new ByteArrayOutputStream();
        state.write(torn, 0, good);
        state.write(record);
        state.write(torn, good + record.length, torn.length - good - record.length);
        Files.write(log, state.toByteArray());
        Files.write(anchor, anchorBefore);
        int remnant = torn.length - good - record.length;

        try (FileAuditSink reopened = new FileAuditSink(log, kek, Duration.ofMillis(5))) {
            reopened.append(AuditFixtures.read(100));
        }

        List<String> lines = lines(log);
        assertThat(lines.get(7)).isEqualTo(repairLine);
        JsonNode second = JSON.readTree(lines.get(8));
        assertThat(second.get("action").asText()).isEqualTo("audit.repair");
        assertThat(second.get("detail").asText())
                .startsWith("dropped " + remnant + " bytes of an incomplete last line (line 9)")
                .contains("seq 7 was the last intact record");
        assertThat(JSON.readTree(lines.get(9)).get("action").asText()).isEqualTo("audit.open");
        assertThat(lines).noneMatch(line -> line.contains("xxx"));
        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isTrue();
    }

    @Test
    void aTornHeaderRepairInterruptedAtAnyStepIsStillRecordedByTheNextStart() throws IOException {
        for (int crashAt = 1; crashAt <= 6; crashAt++) {
            Path log = dir.resolve("header-" + crashAt).resolve("audit.log");
            LocalKeyProvider kek = newKek(dir, "kek-h" + crashAt + ".json");
            Files.createDirectories(log.getParent());
            // Junk longer than the new header and repair record: what is left of it must be cut.
            Files.writeString(log, "{\"type\":\"header\",\"format\":1,\"seq\":0,\"kekId\":\"" + "k".repeat(4000));

            try {
                new FileAuditSink(log, kek, Duration.ofMillis(5), new CrashingClock(crashAt)).close();
            } catch (IOException | RuntimeException interrupted) {
                // The start-up died part-way; the file is whatever that left behind.
            }
            try (FileAuditSink reopened = new FileAuditSink(log, kek, Duration.ofMillis(5))) {
                reopened.append(AuditFixtures.read(1));
            }

            List<String> lines = lines(log);
            assertThat(JSON.readTree(lines.get(0)).get("type").asText()).isEqualTo("header");
            assertThat(lines).as("crash at clock call %d", crashAt)
                    .anyMatch(line -> line.contains("\"action\":\"audit.repair\"") && line.contains("the header was incomplete"));
            assertThat(lines).noneMatch(line -> line.contains("kkkk"));
            VerificationResult result = AuditVerifier.verify(log, kek);
            assertThat(result.ok()).as("crash at clock call %d: %s", crashAt, result.problem()).isTrue();
        }
    }

    @Test
    void closeFromAnInterruptedThreadStillStopsAndReleasesTheLog() throws Exception {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path log = dir.resolve("audit.log");
        FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5));
        sink.append(AuditFixtures.read(1));

        // A shutdown path running on an interrupted thread must neither hang nor keep the lock.
        Thread closer = Thread.ofPlatform().start(() -> {
            Thread.currentThread().interrupt();
            try {
                sink.close();
            } catch (IOException expected) {
                // the close record may not have been written; the close must still complete
            }
        });
        closer.join(Duration.ofSeconds(10));
        assertThat(closer.isAlive()).as("close() hung").isFalse();
        assertThat(sink.healthy()).isFalse();

        try (FileAuditSink reopened = new FileAuditSink(log, kek, Duration.ofMillis(5))) {
            reopened.append(AuditFixtures.read(2));
        }
        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(lines(log)).anyMatch(line -> line.contains("\"requestId\":\"req-1\""))
                .anyMatch(line -> line.contains("\"requestId\":\"req-2\""));
    }
}
