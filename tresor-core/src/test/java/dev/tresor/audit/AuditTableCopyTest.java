package dev.tresor.audit;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.RowAuthenticator;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy of a node's audit records into PostgreSQL ({@code audit_records}): everything written
 * arrives, in the file's exact lines; a queue far too small to keep up (records dropped) and rows
 * deleted from the middle (a copy lost) are both made whole again from the file, without a record
 * copied twice. Another node shows a copy only if its row MAC verifies: one edited or forged in
 * the database is left out and raises an integrity alarm.
 */
class AuditTableCopyTest {

    @TempDir
    Path dir;

    private static RowSeals seals(LocalKeyProvider kek) throws Exception {
        return new RowSeals(new RowAuthenticator(InternalKey.unwrapMac(kek, "row-mac", InternalKey.newWrappedMacKey(kek, "row-mac"))));
    }

    private static AuditEvent event(int i) {
        return new AuditEvent(Instant.now(), "req-" + i, "client-" + (i % 3), "secret.read", "s/" + (i % 5), 1, "allowed",
                200, "127.0.0.1", null);
    }

    private static void awaitCopied(TestDatabase db, String node, long expected) {
        Await.until(expected + " records of " + node + " copied", () -> db.rows("audit_records", "node = ?", node).size() >= expected);
        assertThat(db.rows("audit_records", "node = ?", node)).hasSize((int) expected);
    }

    private static long events(Path log) throws Exception {
        return Files.readAllLines(log).stream().filter(l -> l.contains("\"type\":\"event\"")).count();
    }

    @Test
    void everyRecordArrivesOnceEvenWhenTheQueueOverflowsOrCopiesAreLost() throws Exception {
        try (TestDatabase db = TestDatabase.postgresql(); Store store = db.open()) {
            LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
            RowSeals seals = seals(kek);
            Path log = dir.resolve("audit.log");
            // Capacity 3: the writer outruns the copy at once, so most records reach the store through the catch-up.
            AuditTableCopy.Settings tiny = new AuditTableCopy.Settings(Duration.ofMillis(10), 3, Duration.ofDays(30));
            try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                    AuditStart.unanchored(), SegmentPolicy.NONE, "node-1")) {
                AuditTableCopy copy = new AuditTableCopy(store, seals, "node-1", log, tiny, Clock.systemUTC());
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
                AuditTableCopy copy = new AuditTableCopy(store, seals, "node-1", log, AuditTableCopy.Settings.defaults(),
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

    @Test
    void anotherNodeLeavesOutACopyEditedOrForgedInTheDatabaseAndRaisesAnAlarm() throws Exception {
        try (TestDatabase db = TestDatabase.postgresql(); Store store = db.open()) {
            LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
            RowSeals seals = seals(kek);
            Path log = dir.resolve("node-1.log");
            try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                    AuditStart.unanchored(), SegmentPolicy.NONE, "node-1");
                 AuditTableCopy copy = new AuditTableCopy(store, seals, "node-1", log, AuditTableCopy.Settings.defaults(),
                         Clock.systemUTC())) {
                sink.copyWrittenTo(copy);
                copy.start();
                for (int i = 0; i < 20; i++) {
                    sink.append(event(i));
                }
                awaitCopied(db, "node-1", events(log));
            }
            long copied = db.rows("audit_records", "node = ?", "node-1").size();
            Path node2Log = dir.resolve("node-2.log");
            try (FileAuditSink sink = new FileAuditSink(node2Log, kek, Duration.ofMillis(5), Clock.systemUTC(),
                    AuditStart.unanchored(), SegmentPolicy.NONE, "node-2")) {
                sink.append(event(100));
            }
            List<String> alarms = new java.util.concurrent.CopyOnWriteArrayList<>();
            IntegrityMonitor monitor = (subject, detail) -> alarms.add(subject);
            AuditReader node2 = new AuditReader(node2Log, "node-2", store, seals, monitor);
            AuditQuery.Range all = new AuditQuery.Range(null, null, null, null);
            assertThat(node2.page("node-1", all, null, null, 100).records()).hasSize((int) copied);
            assertThat(alarms).isEmpty();

            // A read's outcome rewritten in the copy; a record's client changed so that a filter misses or finds it;
            // a record forged from another's line and MAC under a new seq.
            long read = seqOf(db, "client-1");
            db.sql("UPDATE audit_records SET line = replace(line, '\"allowed\"', '\"denied\"') WHERE node = ? AND seq = ?",
                    "node-1", read);
            long renamed = seqOf(db, "client-2");
            db.sql("UPDATE audit_records SET client = 'client-9' WHERE node = ? AND seq = ?", "node-1", renamed);
            db.sql("INSERT INTO audit_records (node, seq, at_millis, client, secret, line, mac) SELECT node, 9999, at_millis,"
                    + " client, secret, line, mac FROM audit_records WHERE node = ? AND seq = ?", "node-1", read + 1);
            // A copy without a MAC (as a node older than schema 11 writes during a rolling upgrade): left out, no alarm.
            db.sql("INSERT INTO audit_records (node, seq, at_millis, client, secret, line) SELECT node, 8888, at_millis,"
                    + " client, secret, line FROM audit_records WHERE node = ? AND seq = ?", "node-1", read + 1);

            List<Map<String, Object>> shown = node2.page("node-1", all, null, null, 100).records();
            assertThat(shown).extracting(r -> r.get("seq")).doesNotContain(read, renamed, 9999L, 8888L).hasSize((int) copied - 2);
            assertThat(alarms).containsExactlyInAnyOrder("audit record copy node-1/" + read,
                    "audit record copy node-1/" + renamed, "audit record copy node-1/9999");
            // The merged answer (no node named) leaves them out the same way.
            alarms.clear();
            assertThat(node2.page(null, all, null, null, 100).records()).filteredOn(r -> "node-1".equals(r.get("node")))
                    .extracting(r -> r.get("seq")).doesNotContain(read, renamed, 9999L, 8888L).hasSize((int) copied - 2);
            assertThat(alarms).hasSize(3);
        }
    }

    private static long seqOf(TestDatabase db, String client) {
        return db.rows("audit_records", "client = ?", client).stream().mapToLong(r -> ((Number) r.get("seq")).longValue())
                .min().orElseThrow();
    }
}
