package dev.tresor.cache;

import static dev.tresor.access.TresorFixture.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Role;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Store;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Reusing verified rows must never hide a change: whatever is committed (by this node, another
 * node, or someone writing the database directly) is seen by the very next request. Each test
 * first reads so that the rows are in the current view, then changes the database, then reads
 * again through a fresh view, as the server does per request.
 */
class VerifiedRowsTest {

    @Nested
    class SQLite extends Cases {
        SQLite() {
            super(dev.tresor.store.TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Cases {
        PostgreSQL() {
            super(dev.tresor.store.TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Cases {

        private final dev.tresor.store.TestDatabase.Kind kind;
        TresorFixture f;
        Tresor tresor;

        Cases(dev.tresor.store.TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            tresor = f.tresor;
            f.group("g1");
            f.client("alice", false, Role.READ, "g1");
            f.put(f.root(), "app/db", "PW-1", "g1");
            f.monitor.clear();
        }

        @AfterEach
        void close() {
            f.close();
        }

        /** One request's worth: a view, the caller from it, the value from it. */
        private String read(String client, String secret) {
            VerifiedRows.View view = tresor.view();
            Caller caller = tresor.authenticate(view, id(client));
            var value = tresor.secrets().read(view, caller, secret, VersionSelector.current(), false);
            return new String(value.value(), StandardCharsets.UTF_8);
        }

        private void warm() {
            assertThat(read("alice", "app/db")).isEqualTo("PW-1");
            VerifiedRows.View view = tresor.view();
            assertThat(view.caller(id("alice"))).as("the caller is kept while nothing changes").isNotNull();
            assertThat(view.secret("app/db")).as("the secret row is kept while nothing changes").isNotNull();
            assertThat(view.version("app/db", 1)).as("the version row is kept while nothing changes").isNotNull();
        }

        @Test
        void theSameViewServesRequestsWhileNothingIsCommitted() {
            warm();
            VerifiedRows.View first = tresor.view();
            assertThat(tresor.view()).isSameAs(first);
            assertThat(read("alice", "app/db")).isEqualTo("PW-1");
            assertThat(tresor.view()).isSameAs(first);
        }

        @Test
        void aWriteThroughTresorStartsAnEmptyView() {
            warm();
            VerifiedRows.View before = tresor.view();
            f.put(f.root(), "app/db", "PW-2");
            VerifiedRows.View after = tresor.view();
            assertThat(after).isNotSameAs(before);
            assertThat(after.secret("app/db")).isNull();
            assertThat(read("alice", "app/db")).isEqualTo("PW-2");
        }

        @Test
        void aTamperedCiphertextIsRefusedOnTheNextRequest() {
            warm();
            byte[] ciphertext = (byte[]) f.db.row("secret_versions", "secret_name = ? AND version = 1", "app/db").get("ciphertext");
            ciphertext[ciphertext.length - 1] ^= 1;
            f.db.sql("UPDATE secret_versions SET ciphertext = ? WHERE secret_name = ? AND version = 1", ciphertext, "app/db");
            assertThatThrownBy(() -> read("alice", "app/db")).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.violations()).isNotEmpty();
        }

        @Test
        void aTamperedClientRowIsRefusedOnTheNextRequest() {
            warm();
            f.db.sql("UPDATE clients SET admin = ? WHERE name = 'alice'", f.db.bool(true));
            assertThatThrownBy(() -> read("alice", "app/db")).isInstanceOf(IntegrityViolation.class);
        }

        @Test
        void aDeletedMembershipIsSeenOnTheNextRequest() {
            warm();
            // Deleting a row cannot be told from "never existed" by MACs alone; the group digest
            // in the client row is what catches it, and it must be re-checked, not remembered.
            f.db.sql("DELETE FROM memberships WHERE client_name = 'alice'");
            assertThatThrownBy(() -> read("alice", "app/db")).isInstanceOf(TresorException.class)
                    .satisfies(e -> assertThat(((TresorException) e).failure()).isIn(Failure.FORBIDDEN, Failure.INTEGRITY));
        }

        @Test
        void aRevokeOnAnotherNodeIsSeenOnTheNextRequest() {
            warm();
            Tresor otherNode = f.reopen();
            otherNode.revoke(otherNode.authenticate(id(TresorFixture.ROOT)), "g1", "app/db");
            assertThatThrownBy(() -> read("alice", "app/db")).isInstanceOf(TresorException.class)
                    .satisfies(e -> assertThat(((TresorException) e).failure()).isEqualTo(Failure.FORBIDDEN));
        }

        @Test
        void aNewVersionOnAnotherNodeIsServedOnTheNextRequest() {
            warm();
            Tresor otherNode = f.reopen();
            otherNode.secrets().put(otherNode.authenticate(id(TresorFixture.ROOT)), "app/db",
                    TresorFixture.value("PW-2"), otherNode.groupCheck());
            assertThat(read("alice", "app/db")).isEqualTo("PW-2");
        }

        @Test
        void expiryIsJudgedAtEachRequestNotWhenTheRowWasKept() {
            f.put(f.root(), "app/short", new dev.tresor.model.PutSecret(TresorFixture.bytes("S-1"), null,
                    f.clock.instant().plus(Duration.ofMinutes(5)), java.util.List.of("g1"), null, null, null));
            assertThat(read("alice", "app/short")).isEqualTo("S-1");
            VerifiedRows.View kept = tresor.view();
            f.clock.advance(Duration.ofMinutes(6));
            assertThat(tresor.view()).as("time passing commits nothing").isSameAs(kept);
            assertThatThrownBy(() -> read("alice", "app/short")).isInstanceOf(TresorException.class)
                    .satisfies(e -> assertThat(((TresorException) e).failure()).isEqualTo(Failure.GONE));
        }

        @Test
        void theChangeTokenMovesOnEveryCommitFromAnyConnection() throws Exception {
            Store store = f.store;
            Object quiet = store.changeToken();
            assertThat(store.changeToken()).isEqualTo(quiet);
            try (Connection c = f.db.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(true);
                st.executeUpdate("UPDATE tresor_groups SET description = 'changed' WHERE name = 'g1'");
            }
            Object afterOutside = store.changeToken();
            assertThat(afterOutside).isNotEqualTo(quiet);
            assertThat(store.changeToken()).isEqualTo(afterOutside);
            f.group("g2"); // a commit through this store's own pool
            assertThat(store.changeToken()).isNotEqualTo(afterOutside);
        }
    }
}
