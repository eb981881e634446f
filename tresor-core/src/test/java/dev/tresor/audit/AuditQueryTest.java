package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.T0;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditQueryTest {

    @TempDir
    Path dir;

    private Path log;

    @BeforeEach
    void writeLog() throws IOException {
        log = dir.resolve("audit.log");
        // The log's own clock at T0, as the records' times: a header is never newer than its records.
        try (FileAuditSink sink = new FileAuditSink(log, newKek(dir, "kek.json"), FileAuditSink.DEFAULT_FSYNC_INTERVAL,
                java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC))) {
            for (int i = 1; i <= 30; i++) {
                sink.append(read(i, i % 3 == 0 ? "bob" : "alice", i % 2 == 0 ? "db/a" : "db/b"));
            }
        }
    }

    @Test
    void returnsTheNewestMatchesNewestLast() throws IOException {
        List<Map<String, Object>> records = AuditQuery.read(log, null, "bob", null, 3);

        assertThat(records).extracting(r -> r.get("requestId")).containsExactly("req-24", "req-27", "req-30");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("seq", 30L);
        expected.put("time", T0.plusSeconds(30).toString());
        expected.put("requestId", "req-30");
        expected.put("client", "bob");
        expected.put("action", "secret.read");
        expected.put("secret", "db/a");
        expected.put("version", 1L);
        expected.put("outcome", "allowed");
        expected.put("status", 200L);
        expected.put("source", "10.0.0.30");
        expected.put("detail", null);
        assertThat(records.getLast()).containsExactlyEntriesOf(expected);
    }

    @Test
    void filtersCombine() throws IOException {
        List<Map<String, Object>> records = AuditQuery.read(log, T0.plusSeconds(20), "alice", "db/b", 100);

        assertThat(records).extracting(r -> r.get("requestId")).containsExactly("req-23", "req-25", "req-29");
    }

    @Test
    void withoutFiltersTheAuditSystemsOwnRecordsAreIncluded() throws IOException {
        List<Map<String, Object>> records = AuditQuery.read(log, null, null, null, 2);

        assertThat(records).extracting(r -> r.get("action")).containsExactly("secret.read", "audit.close");
    }

    @Test
    void aLineStillBeingWrittenIsSkipped() throws IOException {
        Files.writeString(log, "{\"type\":\"event\",\"seq\":32,\"client\":\"bob\"", StandardOpenOption.APPEND);

        assertThat(AuditQuery.read(log, null, "bob", null, 1)).extracting(r -> r.get("seq")).containsExactly(30L);
    }

    @Test
    void rangesBoundBySeqAndTimeAndPagesWalkBackwardsOnce() throws IOException {
        // read(i) is stamped T0 + i seconds; seq i is record i (no open record on a new log)
        AuditQuery.Range window = new AuditQuery.Range(T0.plusSeconds(10), T0.plusSeconds(20), null, null);
        assertThat(AuditQuery.page(log, window, null, null, 100).records()).extracting(r -> r.get("seq"))
                .containsExactly(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L);
        assertThat(AuditQuery.page(log, new AuditQuery.Range(null, null, 25L, null), "alice", null, 100).records())
                .extracting(r -> r.get("seq")).containsExactly(26L, 28L, 29L);
        List<Object> paged = new java.util.ArrayList<>();
        Long before = null;
        do {
            AuditQuery.Page page = AuditQuery.page(log, new AuditQuery.Range(null, null, null, before), null, "db/a", 4);
            paged.addAll(0, page.records().stream().map(r -> r.get("seq")).toList());
            before = page.next();
        } while (before != null);
        assertThat(paged).containsExactly(2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L, 20L, 22L, 24L, 26L, 28L, 30L);
    }

    @Test
    void theLimitIsBounded() {
        assertThatThrownBy(() -> AuditQuery.read(log, null, null, null, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AuditQuery.read(log, null, null, null, AuditQuery.MAX_LIMIT + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
