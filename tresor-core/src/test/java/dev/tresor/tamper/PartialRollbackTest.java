package dev.tresor.tamper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Role;
import dev.tresor.model.TresorException;
import dev.tresor.store.TestDatabase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Issue 22, findings 1 and 8: an attacker with write access to the database (no KEK) puts back
 * half of the store from an older copy while the server is stopped: only the access-control
 * tables, or only the secret tables. Each half is consistent on its own (its head, its rows), so
 * before the store head nothing noticed, and revoked members read again. Now start-up refuses,
 * names the half, and reports the violation.
 */
class PartialRollbackTest {

    static final List<String> ACL_TABLES = List.of("acl_head", "clients", "memberships", "tresor_groups");
    static final List<String> SECRET_TABLES = List.of("secrets", "secret_versions", "secret_head", "secret_buckets", "grants");

    @Nested
    class SQLite extends Attacks {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Attacks {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Attacks {

        private final TestDatabase.Kind kind;
        TresorFixture f;
        TestDatabase db;

        Attacks(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            db = f.db;
            f.group("g1");
            f.group("g2");
            f.client("alice", false, Role.READ, "g1");
            f.client("mallory", false, Role.READ, "g2");
            Caller root = f.root();
            f.put(root, "app/db", "PW-1", "g1");
            f.put(root, "team/g2", "G2-1", "g2");
            f.put(root, "app/both", "BOTH-1", "g1", "g2");
            f.monitor.clear();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        /** A copy of whole tables, as a backup of them would hold. */
        Map<String, List<Map<String, Object>>> copy(List<String> tables) {
            Map<String, List<Map<String, Object>>> copy = new LinkedHashMap<>();
            for (String table : tables) {
                copy.put(table, db.rows(table, "1 = 1"));
            }
            return copy;
        }

        /** Puts the copied tables back in place of the current ones. */
        void putBack(Map<String, List<Map<String, Object>>> copy) {
            copy.forEach((table, rows) -> {
                db.sql("DELETE FROM " + table);
                rows.forEach(row -> db.insert(table, row));
            });
        }

        void assertStartRefused(String... messageParts) {
            f.monitor.clear();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContainingAll(messageParts);
            assertThat(f.monitor.subjects()).as("violations reported").contains("store head");
        }

        @Test
        void puttingBackOnlyTheAccessControlTablesIsRefusedAtStartUp() {
            var before = copy(ACL_TABLES);
            f.tresor.removeMember(f.root(), "g2", "mallory");
            f.tresor.deleteClient(f.root(), "alice");
            f.put(f.root(), "app/both", "BOTH-2"); // written after the revocation
            putBack(before);
            assertStartRefused("access-control tables do not match the store head");
        }

        @Test
        void puttingBackOnlyTheSecretTablesIsRefusedAtStartUp() {
            var before = copy(SECRET_TABLES);
            f.tresor.revoke(f.root(), "g2", "app/both");
            f.put(f.root(), "app/db", "PW-2"); // a value rotation
            putBack(before);
            assertStartRefused("secret tables do not match the store head");
        }

        @Test
        void puttingBackTheAccessControlTablesWithTheStoreHeadIsStillRefused() {
            var before = copy(List.of("acl_head", "clients", "memberships", "tresor_groups", "store_head"));
            f.tresor.removeMember(f.root(), "g2", "mallory");
            f.put(f.root(), "app/db", "PW-2"); // the secret half moved on since the copy
            putBack(before);
            assertStartRefused("secret tables do not match the store head");
        }

        /**
         * A second node started before the change has no high-water mark to compare with; the store
         * head, which still seals the newer ACL head, makes it refuse from its first request, so its
         * next ACL change cannot seal the put-back tables into a fresh store head either.
         */
        @Test
        void aNodeThatNeverSawTheNewerAclHeadDoesNotLaunderThePutBackTables() {
            Tresor other = f.reopen();
            var before = copy(ACL_TABLES);
            f.tresor.removeMember(f.root(), "g2", "mallory");
            putBack(before);
            f.monitor.clear();
            assertThatThrownBy(() -> other.authenticate(TresorFixture.id("root"))).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.violations()).anySatisfy(v -> assertThat(v.detail())
                    .contains("the store head seals ACL epoch"));
            assertThat(db.rows("memberships", "group_name = ? AND client_name = ?", "g2", "alice")).isEmpty();
            assertStartRefused("access-control tables do not match the store head");
        }

        @Test
        void aNodeThatNeverSawTheNewerSecretHeadDoesNotLaunderThePutBackTables() {
            Tresor other = f.reopen();
            var before = copy(SECRET_TABLES);
            f.tresor.revoke(f.root(), "g2", "app/both");
            putBack(before);
            Caller root = other.authenticate(TresorFixture.id("root"));
            f.monitor.clear();
            assertThatThrownBy(() -> other.secrets().put(root, "team/g2", TresorFixture.value("G2-2"), other.groupCheck()))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.subjects()).anyMatch(s -> s.startsWith("secret") || s.equals("store head"));
            assertStartRefused("secret tables do not match the store head");
        }

        /** The documented limit: every table put back from one consistent copy verifies; the audit chain's checkpoints catch it. */
        @Test
        void puttingBackTheWholeStoreFromOneCopyIsTheDocumentedLimit() {
            var all = copy(List.of("acl_head", "clients", "memberships", "tresor_groups", "secrets", "secret_versions",
                    "secret_head", "secret_buckets", "grants", "store_head"));
            f.tresor.removeMember(f.root(), "g2", "mallory");
            putBack(all);
            Tresor restarted = f.reopen();
            assertThat(f.read(restarted.authenticate(TresorFixture.id("mallory")), "team/g2")).isEqualTo("G2-1");
        }

        @Test
        void deletingTheStoreHeadIsRefusedAtStartUp() {
            db.sql("DELETE FROM store_head");
            assertStartRefused("store head is missing");
        }

        @Test
        void anUnsealedStoreHeadIsRefusedUnlessTheMigrationWroteItInThisStart() {
            db.sql("UPDATE store_head SET mac = ?", (Object) new byte[0]);
            assertStartRefused("unsealed");
        }

        @Test
        void aModifiedStoreHeadIsRefusedAtStartUp() {
            db.sql("UPDATE store_head SET acl_epoch = acl_epoch + 1");
            assertStartRefused("MAC does not verify");
        }

        /** Finding 8: a deleted secret_head used to be re-minted by the next write, with no violation. */
        @Test
        void deletingTheSecretLedgerHeadFailsTheNextWriteAsAViolation() {
            db.sql("DELETE FROM secret_head");
            f.monitor.clear();
            assertThatThrownBy(() -> f.put(f.root(), "app/db", "PW-2")).isInstanceOfSatisfying(IntegrityViolation.class,
                    v -> assertThat(v.problem()).contains("secret ledger head is missing"));
            assertThat(db.rows("secret_head", "1 = 1")).isEmpty();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("secret ledger head is missing");
        }

        @Test
        void deletingTheAclHeadFailsTheNextAclChangeAsAViolation() {
            db.sql("DELETE FROM acl_head");
            f.monitor.clear();
            assertThatThrownBy(() -> f.group("g3")).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.subjects()).contains("ACL head");
        }
    }
}
