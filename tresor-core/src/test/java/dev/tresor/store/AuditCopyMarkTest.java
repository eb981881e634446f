package dev.tresor.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@link StoreReader#contiguousAuditSeq} with the kept mark (schema 13): the first gap in a node's
 * copied audit records, found by walking the primary key from the node's mark instead of probing
 * every copied record; on SQLite and PostgreSQL.
 */
class AuditCopyMarkTest {

    @Nested
    class OnSqlite extends Cases {
        OnSqlite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class OnPostgresql extends Cases {
        OnPostgresql() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Cases {
        private final TestDatabase.Kind kind;
        private TestDatabase db;
        private Store store;

        Cases(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void open() {
            db = kind.create();
            store = db.open();
        }

        @AfterEach
        void close() throws Exception {
            store.close();
            db.close();
        }

        private void copy(String node, long from, long to) {
            List<Rows.AuditRecordRow> rows = new ArrayList<>();
            for (long seq = from; seq <= to; seq++) {
                rows.add(new Rows.AuditRecordRow(node, seq, 1_000 + seq, null, null, "{\"seq\":" + seq + "}", new byte[] {1}));
                if (rows.size() == 5_000 || seq == to) {
                    List<Rows.AuditRecordRow> batch = List.copyOf(rows);
                    store.write(w -> {
                        w.copyAuditRecords(batch);
                        return null;
                    });
                    rows.clear();
                }
            }
        }

        private long contiguous(String node) {
            return store.read(r -> r.contiguousAuditSeq(node));
        }

        private long markOf(String node) {
            return ((Number) db.row("audit_copy_marks", "node = ?", node).get("seq")).longValue();
        }

        private void keep(String node, long seq) {
            store.write(w -> {
                w.keepAuditCopyMark(node, seq);
                return null;
            });
        }

        @Test
        void withoutAMarkTheFirstGapAfterTheOldestCopyAcrossPagesAndPerNode() {
            assertThat(contiguous("a")).as("nothing copied").isZero();
            // More than two pages of the walk (10,000 rows each), then a gap.
            copy("a", 7, 25_006);
            copy("a", 25_008, 25_010);
            copy("b", 1, 3);
            assertThat(contiguous("a")).isEqualTo(25_006);
            assertThat(contiguous("b")).isEqualTo(3);
            copy("a", 25_007, 25_007);
            assertThat(contiguous("a")).as("the gap filled").isEqualTo(25_010);
        }

        @Test
        void theWalkStartsAtTheKeptMarkAndAHoleBelowItLowersTheMark() {
            copy("a", 1, 100);
            keep("a", 60);
            // The mark is where the walk starts: rows 61-100 are all it reads.
            assertThat(contiguous("a")).isEqualTo(100);
            // Copies lost below the mark (a hole, not the oldest pruned): the trigger lowers the mark
            // to just below the hole, so the next look finds it and the node copies it again.
            assertThat(db.sql("DELETE FROM audit_records WHERE node = 'a' AND seq BETWEEN 30 AND 40")).isEqualTo(11);
            assertThat(markOf("a")).isEqualTo(29);
            assertThat(contiguous("a")).isEqualTo(29);
            copy("a", 30, 40);
            assertThat(contiguous("a")).as("the hole filled").isEqualTo(100);
        }

        @Test
        void aMarkWhoseRecordWasPrunedFallsBackToTheOldestCopyAndAMarkNeverGoesBack() {
            copy("a", 1, 50);
            keep("a", 40);
            keep("a", 20);
            assertThat(markOf("a")).isEqualTo(40);
            // Pruned up to and past the mark (the oldest go first, so the trigger leaves the mark): a
            // mark whose record is gone is ignored, and the walk begins at the oldest kept.
            int pruned = store.write(w -> w.pruneAuditRecords(1_045));
            assertThat(pruned).isEqualTo(44);
            copy("a", 52, 53);
            assertThat(markOf("a")).isEqualTo(40);
            assertThat(contiguous("a")).isEqualTo(50);
        }
    }
}
