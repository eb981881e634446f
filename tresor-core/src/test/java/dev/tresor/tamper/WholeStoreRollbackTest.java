package dev.tresor.tamper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.TresorFixture;
import dev.tresor.model.VersionSelector;
import java.nio.charset.StandardCharsets;
import dev.tresor.audit.AuditChainException;
import dev.tresor.audit.AuditCheckpointer;
import dev.tresor.audit.AuditStart;
import dev.tresor.audit.FileAuditSink;
import dev.tresor.model.Role;
import dev.tresor.store.TestDatabase;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Issue 13: the whole store put back from an older backup is consistent in itself (every head, row
 * and MAC matches), so the store alone cannot tell; the audit log, whose checkpoints recorded the
 * newer epochs, can. On SQLite and on PostgreSQL.
 */
class WholeStoreRollbackTest {

    @Nested
    class SQLite extends Attack {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Attack {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Attack {

        private final TestDatabase.Kind kind;
        TresorFixture f;
        Path log;

        Attack(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            log = f.dir.resolve("audit.log");
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        /** A server's run as far as the audit log is concerned: open against the store, checkpoint, work, stop. */
        void run(Runnable work) throws IOException {
            try (FileAuditSink sink = openLog(null)) {
                AuditCheckpointer checkpointer = new AuditCheckpointer(List.of(sink), f.tresor::storeEpochs,
                        (name, record) -> f.store.write(w -> {
                            w.putAuditCheckpoint(name, record);
                            return null;
                        }), Duration.ofHours(1), 1_000, Clock.systemUTC());
                checkpointer.start();
                work.run();
                checkpointer.close();
                assertThat(checkpointer.failed()).isZero();
            }
        }

        FileAuditSink openLog(String acceptRollback) throws IOException {
            AuditStart start = f.store.read(r -> AuditStart.fromStore(r, "audit.log", acceptRollback));
            return new FileAuditSink(log, f.kek, Duration.ofMillis(20), Clock.systemUTC(), start);
        }

        Map<String, List<Map<String, Object>>> backup() {
            Map<String, List<Map<String, Object>>> copy = new LinkedHashMap<>();
            for (String table : f.db.tables()) {
                copy.put(table, f.db.rows(table, "1 = 1"));
            }
            return copy;
        }

        void restore(Map<String, List<Map<String, Object>>> backup) {
            backup.forEach((table, rows) -> {
                f.db.sql("DELETE FROM " + table);
                rows.forEach(row -> f.db.insert(table, row));
            });
        }

        @Test
        void anOlderCopyOfTheWholeStoreIsRefusedByTheAuditCheckpoints() throws IOException {
            run(() -> {
                f.group("g");
                f.client("alice", false, Role.READ, "g");
                f.put(f.root(), "app/db", "PW-1", "g");
            });
            var before = backup();
            run(() -> {
                f.tresor.removeMember(f.root(), "g", "alice");
                f.put(f.root(), "app/db", "PW-2");
            });

            restore(before);
            // The store by itself is consistent: the older copy opens, and alice is a member again.
            Tresor restarted = f.reopen();
            var value = restarted.secrets().read(restarted.authenticate(TresorFixture.id("alice")), "app/db",
                    VersionSelector.current(), false);
            assertThat(new String(value.value(), StandardCharsets.UTF_8)).isEqualTo("PW-1");

            assertThatThrownBy(() -> openLog(null)).isInstanceOf(AuditChainException.class)
                    .hasMessageContaining("the database was put back from an older copy")
                    .hasMessageContaining("--accept-rollback");
            try (FileAuditSink sink = openLog("restored after ransomware, incident 42")) {
                assertThat(sink.healthy()).isTrue();
            }
        }

        @Test
        void aStoreThatMovedOnSinceTheLastCheckpointStartsNormally() throws IOException {
            run(() -> f.group("g"));
            f.group("h"); // written while no log was checkpointing it (a tool run, a crash before the checkpoint)
            run(() -> f.group("i"));
            try (FileAuditSink sink = openLog(null)) {
                assertThat(sink.bytesVerifiedAtOpen()).isPositive();
            }
        }
    }
}
