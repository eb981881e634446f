package dev.tresor.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy of a node's audit records into PostgreSQL ({@code audit_records}): everything written
 * arrives, in the file's exact lines; a queue far too small to keep up (records dropped) and rows
 * deleted from the middle (a copy lost) are both made whole again from the file, without a record
 * copied twice.
 */
class AuditTableCopyTest {

    @TempDir
    Path dir;

    private static AuditEvent event(int i) {
        return new AuditEvent(Instant.now(), "req-" + i, "client-" + (i % 3), "secret.read", "s/" + (i % 5), 1, "allowed",
                200, "127.0.0.1", null);
    }

    private static void awaitCopied(TestDatabase db, String node, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (db.rows("audit_records", "node = ?", node).size() < expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(db.rows("audit_records", "node = ?", node)).hasSize((int) expected);
    }

    private static long events(Path log) throws Exception {
        return Files.readAllLines(log).stream().filter(l -> l.contains("\"type\":\"event\"")).count();
    }

    @Test
    void everyRecordArrivesOnceEvenWhenTheQueueOverflowsOrCopiesAreLost() throws Exception {
        try (TestDatabase db = TestDatabase.postgresql(); Store store = db.open()) {
            LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
            Path log = dir.resolve("audit.log");
            // Capacity 3: the writer outruns the copy at once, so most records reach the store through the catch-up.
            AuditTableCopy.Settings tiny = new AuditTableCopy.Settings(Duration.ofMillis(10), 3, Duration.ofDays(30));
            try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                    AuditStart.unanchored(), SegmentPolicy.NONE, "node-1")) {
                AuditTableCopy copy = new AuditTableCopy(store, "node-1", log, tiny, Clock.systemUTC());
                sink.copyWrittenTo(copy);
                copy.start();
                for (int i = 0; i < 500; i++) {
                    sink.append(event(i));
                }
                awaitCopied(db, "node-1", events(log));
                assertThat(copy.dropped()).as("the tiny queue overflowed").isPositive();
                copy.close();
            }
            long written = events(log);
            // Every copy is the file's line for that seq, and names its node.
            Map<Long, String> lines = new java.util.HashMap<>();
            for (String l : Files.readAllLines(log)) {
                var fields = new com.fasterxml.jackson.databind.ObjectMapper().readTree(l);
                if ("event".equals(fields.path("type").asText())) {
                    assertThat(fields.path("node").asText()).isEqualTo("node-1");
                    lines.put(fields.get("seq").asLong(), l);
                }
            }
            var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
            for (Map<String, Object> row : db.rows("audit_records", "node = ?", "node-1")) {
                long seq = ((Number) row.get("seq")).longValue();
                assertThat(mapper.readTree((String) row.get("line"))).isEqualTo(mapper.readTree(lines.get(seq)));
            }

            // Copies lost from the middle and the end: the next start fills both gaps from the file.
            db.sql("DELETE FROM audit_records WHERE node = ? AND (seq BETWEEN 100 AND 180 OR seq > 450)", "node-1");
            assertThat(db.rows("audit_records", "node = ?", "node-1").size()).isLessThan((int) written);
            try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                    AuditStart.unanchored(), SegmentPolicy.NONE, "node-1")) {
                AuditTableCopy copy = new AuditTableCopy(store, "node-1", log, AuditTableCopy.Settings.defaults(),
                        Clock.systemUTC());
                sink.copyWrittenTo(copy);
                copy.start();
                sink.append(event(1000));
                awaitCopied(db, "node-1", events(log));
                copy.close();
            }
            List<Map<String, Object>> all = db.rows("audit_records", "node = ?", "node-1");
            assertThat(all.stream().map(r -> ((Number) r.get("seq")).longValue()).distinct().count()).isEqualTo(all.size());
            assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
        }
    }
}
