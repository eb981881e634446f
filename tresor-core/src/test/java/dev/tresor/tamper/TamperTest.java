package dev.tresor.tamper;

import static dev.tresor.access.TresorFixture.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.ClientView;
import dev.tresor.model.Failure;
import dev.tresor.model.GroupView;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The threat model of SPEC §2.2: an attacker who can write the database directly (plain JDBC on
 * the same SQLite file or PostgreSQL database) but holds no KEK. The attacker is also a registered
 * client, {@code mallory}, who reads group g2. For every attack: (a) no value the attacker should
 * not get is returned, (b) nobody's access widens, (c) the running server reports the violation to
 * its {@link dev.tresor.integrity.IntegrityMonitor} and refuses the operation. Where an attack can
 * only be survived, not detected (a deleted row looks like a row that never existed), the test says
 * so and asserts the fail-closed outcome.
 *
 * <p>World: {@code root} (admin), {@code alice} (reads g1), {@code wendy} (writes g1), {@code mallory}
 * (reads g2). Secrets: {@code app/db} [g1] v1 "PW-1", v2 "PW-2" (current=2, previous=1);
 * {@code team/g2} [g2] "G2-1"; {@code app/both} [g1, g2] "BOTH-1".
 */
class TamperTest {

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

    /**
     * Issue 17: two nodes on one PostgreSQL, both having verified and cached the world before the
     * attack. Every attack above is refused by both, and each raises its own alarm: a node's cache
     * gives the attacker nothing, because every request compares the store's change token and the
     * tampering commit moves it.
     */
    @Nested
    class TwoPostgreSQLNodes extends Attacks {
        TwoPostgreSQLNodes() {
            super(TestDatabase.Kind.POSTGRESQL, 2);
        }

        /**
         * Node 2 read app/both before the revoke on node 1 and not after, so it never read the
         * newer bucket; the journal tells it that the bucket moved on when it next sees the newer
         * head, before its check: both nodes refuse the replay, each with its own alarm, and so does
         * a node that starts.
         */
        @Test
        void aReplayedSecretWithItsBucketIsRefusedByANodeThatNeverReadTheNewerEpoch() {
            replayAppBothWithItsBucketAcrossARevoke(false);
            assertBothNodesRefuseTheReplayAndAStartToo();
        }

        /** The revoke's journal row deleted with the replay: the node re-reads every bucket against the head's sum. */
        @Test
        void deletingTheRevokesJournalRowWithTheReplayDoesNotHideIt() {
            replayAppBothWithItsBucketAcrossARevoke(false);
            assertThat(db.sql("DELETE FROM secret_journal WHERE epoch = (SELECT MAX(epoch) FROM secret_journal)")).isEqualTo(1);
            assertBothNodesRefuseTheReplayAndAStartToo();
        }

        /** The revoke's journal row pointed at another bucket: its MAC fails, so it is not believed. */
        @Test
        void aJournalRowNamingAnotherBucketDoesNotHideTheReplay() {
            int other = (dev.tresor.integrity.SecretLedger.bucketOf("app/both") + 1) % dev.tresor.integrity.SecretLedger.BUCKETS;
            replayAppBothWithItsBucketAcrossARevoke(false);
            assertThat(db.sql("UPDATE secret_journal SET bucket = " + other
                    + " WHERE epoch = (SELECT MAX(epoch) FROM secret_journal)")).isEqualTo(1);
            assertBothNodesRefuseTheReplayAndAStartToo();
        }

        /**
         * An ACL head put back with its rows but not the store head: the store head, re-sealed by
         * every ACL change in the same transaction, names the newer epoch, so node 2 refuses
         * although it never read that epoch.
         */
        @Test
        void anAclHeadPutBackWithoutTheStoreHeadIsRefusedByANodeThatNeverReadTheNewerOne() {
            TresorFixture.Node second = f.nodes().get(1);
            SavedAcl before = aclWithMalloryInG1ThenRemovedOnNode1();
            restoreAclFrom(before, false);
            f.on(second, () -> refusedHere("node 2", reading("mallory", "app/db")));
            assertThat(second.monitor().subjects()).contains("ACL head");
        }

        /**
         * The whole ACL put back together with the store head (no secret changed in between, so
         * it is a consistent older store): a node that never heard of the newer state cannot tell
         * (the documented limit). A node that followed the commit notification, as a server does
         * through its change feed, knows the newer epoch and refuses.
         */
        @Test
        void theAclPutBackWithTheStoreHeadIsRefusedByANodeThatFollowedTheCommit() {
            TresorFixture.Node second = f.nodes().get(1);
            SavedAcl before = aclWithMalloryInG1ThenRemovedOnNode1();
            second.tresor().followCommits(); // what its change feed does on node 1's NOTIFY
            restoreAclFrom(before, true);
            f.on(second, () -> refusedHere("node 2", reading("mallory", "app/db")));
            assertThat(second.monitor().subjects()).contains("ACL head");
        }

        /** As above for the secret ledger: head, store head, bucket and rows all put back from before a revoke. */
        @Test
        void theSecretLedgerPutBackWithItsHeadsIsRefusedByANodeThatFollowedTheCommit() {
            TresorFixture.Node second = f.nodes().get(1);
            Map<String, Object> secretHead = db.row("secret_head", null);
            Map<String, Object> storeHead = db.row("store_head", null);
            replayAppBothWithItsBucketAcrossARevoke(() -> second.tresor().followCommits());
            restoreRow("secret_head", secretHead, "id = 1");
            restoreRow("store_head", storeHead, "id = 1");
            db.sql("DELETE FROM secret_journal WHERE epoch > " + secretHead.get("epoch"));
            f.on(second, () -> refusedHere("node 2", reading("mallory", "app/both")));
            assertThat(second.monitor().subjects()).anyMatch(s -> s.startsWith("secret app/both"));
        }

        /** The rows an ACL replay puts back: the ACL head, mallory's client and membership rows, the store head. */
        private record SavedAcl(Map<String, Object> aclHead, Map<String, Object> client, Map<String, Object> membership,
                                Map<String, Object> storeHead) {}

        private SavedAcl aclWithMalloryInG1ThenRemovedOnNode1() {
            Caller root = f.root();
            f.tresor.addMember(root, "g1", "mallory", Role.READ);
            onEveryNode(() -> assertThat(f.read(f.auth("mallory"), "app/db")).isEqualTo("PW-2"));
            SavedAcl before = new SavedAcl(db.row("acl_head", null), clientRow("mallory"), membershipRow("g1", "mallory"),
                    db.row("store_head", null));
            f.tresor.removeMember(root, "g1", "mallory");
            return before;
        }

        private void restoreAclFrom(SavedAcl before, boolean withStoreHead) {
            restoreRow("acl_head", before.aclHead(), "id = 1");
            restoreRow("clients", before.client(), "name = ?", "mallory");
            db.insert("memberships", before.membership());
            if (withStoreHead) {
                restoreRow("store_head", before.storeHead(), "id = 1");
            }
        }

        private void assertBothNodesRefuseTheReplayAndAStartToo() {
            for (int i = 0; i < 2; i++) {
                TresorFixture.Node node = f.nodes().get(i);
                String name = "node " + (i + 1);
                f.on(node, () -> refusedHere(name, reading("mallory", "app/both")));
                assertThat(node.monitor().subjects()).as("alarms of %s", name)
                        .anyMatch(s -> s.startsWith("secret app/both"));
            }
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContaining("secret ledger");
            assertReportedAtStart("secret ledger");
        }
    }

    abstract static class Attacks {

        private final TestDatabase.Kind kind;
        private final int nodeCount;
        private final dev.tresor.access.KekSource keks;
        TresorFixture f;
        TestDatabase db;

        Attacks(TestDatabase.Kind kind) {
            this(kind, 1, dev.tresor.access.KekSource.LOCAL);
        }

        /** The whole suite with KEKs from {@code keks} (another key provider). */
        Attacks(TestDatabase.Kind kind, dev.tresor.access.KekSource keks) {
            this(kind, 1, keks);
        }

        /**
         * With {@code nodeCount > 1}, the world is built on the first node and read on the others
         * before each attack (so every node has verified and cached the rows), and every refusal and
         * alarm below is checked on every node.
         */
        Attacks(TestDatabase.Kind kind, int nodeCount) {
            this(kind, nodeCount, dev.tresor.access.KekSource.LOCAL);
        }

        Attacks(TestDatabase.Kind kind, int nodeCount, dev.tresor.access.KekSource keks) {
            this.kind = kind;
            this.nodeCount = nodeCount;
            this.keks = keks;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind, keks);
            db = f.db;
            f.group("g1");
            f.group("g2");
            f.client("alice", false, Role.READ, "g1");
            f.client("wendy", false, Role.WRITE, "g1");
            f.client("mallory", false, Role.READ, "g2");
            Caller root = f.root();
            f.put(root, "app/db", "PW-1", "g1");
            f.put(root, "app/db", "PW-2");
            f.put(root, "team/g2", "G2-1", "g2");
            f.put(root, "app/both", "BOTH-1", "g1", "g2");
            assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-2");
            assertThat(f.read(f.auth("mallory"), "app/both")).isEqualTo("BOTH-1");
            for (int i = 1; i < nodeCount; i++) {
                f.on(f.addNode(), () -> {
                    assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-2");
                    assertThat(f.read(f.auth("alice"), "app/db", new VersionSelector(1, null))).isEqualTo("PW-1");
                    assertThat(f.read(f.auth("wendy"), "app/both")).isEqualTo("BOTH-1");
                    assertThat(f.read(f.auth("mallory"), "team/g2")).isEqualTo("G2-1");
                    assertThat(f.read(f.auth("mallory"), "app/both")).isEqualTo("BOTH-1");
                    assertThat(f.root().admin()).isTrue();
                    return null;
                });
            }
            clearAlarms();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        // ------------------------------------------------------------------ helpers

        /**
         * The action must be refused on every node, each the same way; returns the first node's
         * refusal. A returned value fails the test.
         */
        TresorException refused(Supplier<?> action) {
            TresorException first = null;
            List<TresorFixture.Node> nodes = f.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                String node = "node " + (i + 1) + " of " + nodes.size();
                TresorException e = f.on(nodes.get(i), () -> refusedHere(node, action));
                if (first == null) {
                    first = e;
                } else {
                    assertThat(e).as(node).hasSameClassAs(first);
                    assertThat(e.failure()).as(node).isEqualTo(first.failure());
                }
            }
            return first;
        }

        static TresorException refusedHere(String node, Supplier<?> action) {
            Object value;
            try {
                value = action.get();
            } catch (TresorException e) {
                return e;
            }
            return fail("expected a refusal on " + node + ", but the attack succeeded and returned: " + value);
        }

        TresorException refused(Runnable action) {
            return refused(() -> {
                action.run();
                return "(completed)";
            });
        }

        /** Authenticating must be refused as an integrity problem (never yield a Caller). */
        IntegrityViolation authRefused(String client) {
            TresorException e = refused(() -> f.auth(client));
            assertThat(e).as("refusal of " + client).isInstanceOf(IntegrityViolation.class);
            return (IntegrityViolation) e;
        }

        Supplier<String> reading(String client, String secret) {
            return () -> f.read(f.auth(client), secret);
        }

        Supplier<String> reading(String client, String secret, int version) {
            return () -> f.read(f.auth(client), secret, new VersionSelector(version, null));
        }

        /** Every running node raised the alarm itself (each has its own monitor). */
        void assertReported(String subject) {
            List<TresorFixture.Node> nodes = f.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                assertThat(nodes.get(i).monitor().subjects())
                        .as("violations reported to the monitor of node " + (i + 1)).contains(subject);
            }
        }

        void assertReportedStartingWith(String subjectPrefix) {
            List<TresorFixture.Node> nodes = f.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                assertThat(nodes.get(i).monitor().subjects())
                        .as("violations reported to the monitor of node " + (i + 1))
                        .anyMatch(s -> s.startsWith(subjectPrefix));
            }
        }

        /** A node started after the attack ({@link TresorFixture#reopen()}, the first node's monitor) raised it. */
        void assertReportedAtStart(String subject) {
            assertThat(f.monitor.subjects()).as("violations reported by the node that started").contains(subject);
        }

        void clearAlarms() {
            f.nodes().forEach(n -> n.monitor().clear());
        }

        /** Runs a check on every node in turn. */
        void onEveryNode(Runnable check) {
            for (TresorFixture.Node node : f.nodes()) {
                f.on(node, () -> {
                    check.run();
                    return null;
                });
            }
        }

        /** The honest parts of the world still work (the damage is confined to the tampered row). */
        void assertUntouchedStillWorks(String... except) {
            onEveryNode(() -> assertUntouchedStillWorksHere(except));
        }

        private void assertUntouchedStillWorksHere(String... except) {
            List<String> skip = List.of(except);
            if (!skip.contains("alice")) {
                assertThat(f.read(f.auth("alice"), "app/both")).isEqualTo("BOTH-1");
            }
            if (!skip.contains("mallory")) {
                assertThat(f.read(f.auth("mallory"), "team/g2")).isEqualTo("G2-1");
            }
            if (!skip.contains("root")) {
                assertThat(f.root().admin()).isTrue();
            }
        }

        static byte[] flip(byte[] bytes, int index) {
            byte[] copy = bytes.clone();
            copy[index] ^= 0x01;
            return copy;
        }

        Map<String, Object> clientRow(String name) {
            return db.row("clients", "name = ?", name);
        }

        Map<String, Object> membershipRow(String group, String client) {
            return db.row("memberships", "group_name = ? AND client_name = ?", group, client);
        }

        Map<String, Object> versionRow(String secret, int version) {
            return db.row("secret_versions", "secret_name = ? AND version = ?", secret, version);
        }

        Map<String, Object> secretRow(String secret) {
            return db.row("secrets", "name = ?", secret);
        }

        /** Overwrites every column of an existing row with a captured copy (the key columns stay). */
        void restoreRow(String table, Map<String, Object> captured, String where, Object... keys) {
            List<String> columns = new ArrayList<>(captured.keySet());
            String set = String.join(", ", columns.stream().map(c -> c + " = ?").toList());
            List<Object> args = new ArrayList<>(captured.values());
            args.addAll(Arrays.asList(keys));
            int n = db.sql("UPDATE " + table + " SET " + set + " WHERE " + where, args.toArray());
            assertThat(n).isEqualTo(1);
        }

        // ================================================================== clients

        @ParameterizedTest(name = "clients.{0}")
        @ValueSource(strings = {"identity", "admin", "enabled", "groups_digest", "created_at", "created_by", "mac"})
        void changingAnyColumnOfAClientRowIsCaught(String column) {
            String victim = "mallory";
            switch (column) {
                case "identity" -> {
                    // Mallory re-points root's row at her own certificate identity to log in as root.
                    victim = "root";
                    db.sql("UPDATE clients SET identity = ? WHERE name = 'mallory'", id("mallory-old"));
                    db.sql("UPDATE clients SET identity = ? WHERE name = 'root'", id("mallory"));
                }
                case "admin" -> db.sql("UPDATE clients SET admin = ? WHERE name = 'mallory'", db.bool(true));
                case "enabled" -> {
                    // Disabling someone else (denial of service) must be noticed too.
                    victim = "alice";
                    db.sql("UPDATE clients SET enabled = ? WHERE name = 'alice'", db.bool(false));
                }
                case "groups_digest" -> db.sql("UPDATE clients SET groups_digest = ? WHERE name = 'mallory'",
                        clientRow("alice").get("groups_digest"));
                case "created_at" -> db.sql("UPDATE clients SET created_at = created_at + 1 WHERE name = 'mallory'");
                case "created_by" -> db.sql("UPDATE clients SET created_by = 'bootstrap' WHERE name = 'mallory'");
                case "mac" -> db.sql("UPDATE clients SET mac = ? WHERE name = 'mallory'", clientRow("alice").get("mac"));
                default -> throw new IllegalArgumentException(column);
            }
            String tampered = victim;
            String loginAs = column.equals("identity") ? "mallory" : tampered;
            IntegrityViolation v = authRefused(loginAs);
            assertThat(v.subject()).isEqualTo("client " + tampered);
            assertReported("client " + tampered);
            if (!tampered.equals("root")) {
                assertThat(f.tresor.listClients(f.root())).filteredOn(c -> c.name().equals(tampered))
                        .extracting(ClientView::intact).containsExactly(false);
                assertUntouchedStillWorks(victim);
            } else {
                assertUntouchedStillWorks("root", "mallory");
            }
        }

        @Test
        void aTamperedClientIsNeverResealedByAnAdminsEdit() {
            db.sql("UPDATE clients SET admin = ? WHERE name = 'mallory'", db.bool(true));
            Caller root = f.root();
            // Editing the row would re-seal it and launder the change: refused.
            assertThat(refused(() -> f.tresor.addMember(root, "g1", "mallory", Role.READ)))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.removeMember(root, "g2", "mallory"))).isInstanceOf(IntegrityViolation.class);
            authRefused("mallory");
            assertReported("client mallory");
            // Deleting it is the remedy, and a re-created client starts clean.
            f.tresor.deleteClient(root, "mallory");
            f.tresor.createClient(root, "mallory", id("mallory"), false);
            Caller fresh = f.auth("mallory");
            assertThat(fresh.admin()).isFalse();
            assertThat(fresh.groups()).isEmpty();
        }

        @Test
        void aClientRowCannotBeMadeToVerifyForAnotherName() {
            // Copy alice's whole row (valid MAC) under mallory's name with mallory's identity kept:
            // the MAC covers the name, so the copy does not verify.
            Map<String, Object> alice = clientRow("alice");
            db.sql("DELETE FROM clients WHERE name = 'mallory'");
            Map<String, Object> copy = new LinkedHashMap<>(alice);
            copy.put("name", "mallory");
            copy.put("identity", id("mallory"));
            db.insert("clients", copy);
            authRefused("mallory");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        // ================================================================== memberships

        @Test
        void aMembershipRowCopiedFromAnotherClientIsCaught() {
            Map<String, Object> row = new LinkedHashMap<>(membershipRow("g1", "alice"));
            row.put("client_name", "mallory");
            db.insert("memberships", row);
            authRefused("mallory");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        @Test
        void aMembershipRowCopiedFromAnotherGroupIsCaught() {
            Map<String, Object> row = new LinkedHashMap<>(membershipRow("g2", "mallory"));
            row.put("group_name", "g1");
            db.insert("memberships", row);
            authRefused("mallory");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        @Test
        void changingAMembershipRoleFromReadToWriteIsCaught() {
            db.sql("UPDATE memberships SET role = 'write' WHERE client_name = 'mallory' AND group_name = 'g2'");
            authRefused("mallory");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        @Test
        void reInsertingARevokedMembershipRowIsCaught() {
            Caller root = f.root();
            f.tresor.addMember(root, "g1", "mallory", Role.READ);
            assertThat(f.read(f.auth("mallory"), "app/db")).isEqualTo("PW-2");
            Map<String, Object> captured = membershipRow("g1", "mallory");
            f.tresor.removeMember(root, "g1", "mallory");
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);

            db.insert("memberships", captured); // its MAC was valid, and still is
            authRefused("mallory");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        @Test
        void replayingAnOlderCopyOfAClientRowIsCaughtByTheAclHeadRegistry() {
            Caller root = f.root();
            f.tresor.addMember(root, "g1", "mallory", Role.WRITE);
            Map<String, Object> oldClient = clientRow("mallory");
            Map<String, Object> oldMembership = membershipRow("g1", "mallory");
            f.tresor.removeMember(root, "g1", "mallory");
            // Put back the client row and membership as they were: each verifies on its own, and the
            // row's group digest matches the memberships. Only the ACL head registry knows better.
            restoreRow("clients", oldClient, "name = ?", "mallory");
            db.insert("memberships", oldMembership);
            IntegrityViolation v = authRefused("mallory");
            assertThat(v.problem()).contains("registered");
            assertReported("client mallory");
            assertUntouchedStillWorks("mallory");
        }

        @Test
        void replayingAnAdminRowFromBeforeTheClientWasRecreatedWithoutAdminIsCaught() {
            Caller root = f.root();
            f.tresor.createClient(root, "ops", id("ops"), true);
            Map<String, Object> asAdmin = clientRow("ops");
            f.tresor.deleteClient(root, "ops");
            f.tresor.createClient(root, "ops", id("ops"), false);
            assertThat(f.auth("ops").admin()).isFalse();
            restoreRow("clients", asAdmin, "name = ?", "ops");
            authRefused("ops");
            assertReported("client ops");
            assertUntouchedStillWorks();
        }

        @Test
        void swappingMembershipsBetweenClientsIsCaught() {
            db.transaction(
                    "UPDATE memberships SET client_name = 'tmp' WHERE client_name = 'alice' AND group_name = 'g1'",
                    "UPDATE memberships SET client_name = 'alice' WHERE client_name = 'mallory' AND group_name = 'g2'",
                    "UPDATE memberships SET client_name = 'mallory' WHERE client_name = 'tmp'");
            authRefused("mallory");
            authRefused("alice");
            assertReported("client mallory");
            assertReported("client alice");
            assertThat(f.read(f.auth("wendy"), "app/db")).isEqualTo("PW-2");
        }

        @Test
        void deletingAMembershipRowIsCaughtByTheGroupDigest() {
            db.sql("DELETE FROM memberships WHERE client_name = 'alice'");
            authRefused("alice");
            assertReported("client alice");
            assertUntouchedStillWorks("alice");
        }

        // ================================================================== deleted clients

        @Test
        void reInsertingADeletedClientsRowsIsCaught() {
            Caller root = f.root();
            f.tresor.createClient(root, "eve", id("eve"), true);
            f.tresor.addMember(root, "g1", "eve", Role.WRITE);
            Map<String, Object> client = clientRow("eve");
            List<Map<String, Object>> memberships = db.rows("memberships", "client_name = ?", "eve");
            f.tresor.deleteClient(root, "eve");
            assertThat(refused(() -> f.auth("eve")).failure()).isEqualTo(Failure.UNAUTHENTICATED);

            db.insert("clients", client);
            memberships.forEach(m -> db.insert("memberships", m));
            IntegrityViolation v = authRefused("eve");
            assertThat(v.problem()).contains("registered");
            assertReported("client eve");
            assertThat(f.tresor.listClients(f.root())).filteredOn(c -> c.name().equals("eve"))
                    .extracting(ClientView::intact).containsExactly(false);
            // The re-inserted admin row cannot be used to run admin operations either.
            assertThat(refused(() -> f.tresor.addMember(f.root(), "g2", "eve", Role.READ)))
                    .isInstanceOf(IntegrityViolation.class);
            assertUntouchedStillWorks();
        }

        @Test
        void deletingAClientRowFailsClosed() {
            // Not detectable at the door: the identity simply is unknown (as if never registered). The
            // ACL head still lists it, so the admin view reports the missing row.
            db.sql("DELETE FROM memberships WHERE client_name = 'alice'");
            db.sql("DELETE FROM clients WHERE name = 'alice'");
            assertThat(refused(() -> f.auth("alice")).failure()).isEqualTo(Failure.UNAUTHENTICATED);
            onEveryNode(() -> f.tresor.listClients(f.root()));
            assertReported("client alice");
            assertUntouchedStillWorks("alice");
        }

        // ================================================================== the ACL head

        @Test
        void deletingTheAclHeadFailsClosedForEveryone() {
            db.sql("DELETE FROM acl_head");
            for (String client : List.of("root", "alice", "mallory")) {
                IntegrityViolation v = authRefused(client);
                assertThat(v.failure()).isEqualTo(Failure.INTEGRITY);
            }
            assertReported("ACL head");
            // Nobody can start editing the ACL afresh, and a restarted node does not start: the store head
            // sealed an ACL head that is gone.
            assertThat(refused(() -> f.tresor.bootstrapAdmin("attacker", id("mallory-2")))).isInstanceOf(IntegrityViolation.class);
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContaining("ACL head is missing");
            assertReportedAtStart("store head");
        }

        @ParameterizedTest(name = "acl_head.{0}")
        @ValueSource(strings = {"epoch", "mac", "registry"})
        void modifyingTheAclHeadIsCaught(String column) {
            switch (column) {
                case "epoch" -> db.sql("UPDATE acl_head SET epoch = epoch + 1");
                case "mac" -> db.sql("UPDATE acl_head SET mac = ?", flip((byte[]) db.row("acl_head", null).get("mac"), 0));
                case "registry" -> {
                    // Bring a deleted admin back and list its row's MAC in the registry.
                    Caller root = f.root();
                    f.tresor.createClient(root, "eve", id("eve"), true);
                    Map<String, Object> eve = clientRow("eve");
                    f.tresor.deleteClient(root, "eve");
                    clearAlarms();
                    db.insert("clients", eve);
                    String registry = (String) db.row("acl_head", null).get("registry");
                    db.sql("UPDATE acl_head SET registry = ?",
                            registry + ",eve:" + Base64.getEncoder().encodeToString((byte[]) eve.get("mac")));
                }
                default -> throw new IllegalArgumentException(column);
            }
            String who = column.equals("registry") ? "eve" : "mallory";
            authRefused(who);
            assertThat(f.monitor.subjects()).isNotEmpty();
            // A node that starts now (no cache) does not start: the ACL head is not the one the store head sealed.
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("access-control tables do not match the store head");
            assertReportedAtStart("store head");
        }

        @Test
        void aModifiedAclHeadRegistryIsReportedByTheRunningNode() {
            // AccessControl says the head's check is "cached by its exact bytes"; the cache key is
            // only (epoch, mac), so a changed registry with the old epoch and MAC is neither used nor
            // reported by a node that has already verified the head (a restarted node does report it).
            assertThat(f.auth("alice").name()).isEqualTo("alice");
            String registry = (String) db.row("acl_head", null).get("registry");
            String without = String.join(",", Arrays.stream(registry.split(","))
                    .filter(e -> !e.startsWith("alice:")).toList());
            db.sql("UPDATE acl_head SET registry = ?", without);
            refused(() -> f.auth("alice"));
            assertReported("ACL head");
        }

        @Test
        void replayingAnOlderAclHeadWithItsRowsIsCaughtByTheRunningNode() {
            Caller root = f.root();
            f.tresor.addMember(root, "g1", "mallory", Role.READ);
            Map<String, Object> oldHead = db.row("acl_head", null);
            Map<String, Object> oldClient = clientRow("mallory");
            Map<String, Object> oldMembership = membershipRow("g1", "mallory");
            f.tresor.removeMember(root, "g1", "mallory");
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);

            // Roll the ACL back to the consistent state in which mallory was in g1.
            restoreRow("acl_head", oldHead, "id = 1");
            restoreRow("clients", oldClient, "name = ?", "mallory");
            db.insert("memberships", oldMembership);
            IntegrityViolation v = authRefused("mallory");
            assertThat(v.failure()).isEqualTo(Failure.INTEGRITY);
            assertThat(v.problem()).contains("rolled back");
            assertReported("ACL head");
            // Every request fails closed until an operator looks, including root's.
            assertThat(refused(() -> f.auth("root"))).isInstanceOf(IntegrityViolation.class);
            // A node started after the rollback cannot tell it from the real state: rolling back a
            // consistent copy of the ACL tables is the documented limit (SPEC §2.2, the audit chain
            // notices it). Not asserted here.
        }

        /**
         * The same replay right after the node's own change, with no request in between: the node
         * made the newer epoch, so it knows it without reading the head again.
         */
        @Test
        void replayingAnOlderAclHeadRightAfterTheNodesOwnChangeIsCaughtByThatNode() {
            Caller root = f.root();
            f.tresor.addMember(root, "g1", "mallory", Role.READ);
            Map<String, Object> oldHead = db.row("acl_head", null);
            Map<String, Object> oldClient = clientRow("mallory");
            Map<String, Object> oldMembership = membershipRow("g1", "mallory");
            f.tresor.removeMember(root, "g1", "mallory");

            restoreRow("acl_head", oldHead, "id = 1");
            restoreRow("clients", oldClient, "name = ?", "mallory");
            db.insert("memberships", oldMembership);
            TresorFixture.Node writer = f.nodes().getFirst();
            f.on(writer, () -> refusedHere("the node that removed the member", reading("mallory", "app/db")));
            assertThat(writer.monitor().subjects()).contains("ACL head");
        }

        // ================================================================== groups

        @Test
        void aForgedOrModifiedGroupRowCannotBeUsed() {
            Map<String, Object> g1 = db.row("tresor_groups", "name = 'g1'");
            Map<String, Object> forged = new LinkedHashMap<>(g1);
            forged.put("name", "g9");
            db.insert("tresor_groups", forged);
            db.sql("UPDATE tresor_groups SET description = 'changed' WHERE name = 'g2'");
            Caller root = f.root();
            assertThat(refused(() -> f.tresor.addMember(root, "g9", "mallory", Role.READ)))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.grant(root, "g9", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.grant(root, "g2", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.put(root, "new/secret", "x", "g9"))).isInstanceOf(IntegrityViolation.class);
            assertReported("group g9");
            assertReported("group g2");
            assertThat(f.tresor.listGroups(root)).filteredOn(g -> !g.name().equals("g1"))
                    .extracting(GroupView::intact).containsOnly(false);
            assertThat(secretsMeta("app/db").groups()).containsExactly("g1");
            assertUntouchedStillWorks();
        }

        SecretMeta secretsMeta(String name) {
            return f.tresor.secrets().meta(f.root(), name);
        }

        // ================================================================== secrets

        @ParameterizedTest(name = "secrets.{0}")
        @ValueSource(strings = {"groups", "labels", "latest_version", "description", "created_at", "created_by",
                "updated_at", "destroyed", "mac"})
        void changingAnyColumnOfASecretRowIsCaught(String column) {
            switch (column) {
                case "groups" -> db.sql("UPDATE secrets SET groups = 'g1,g2' WHERE name = 'app/db'");
                case "labels" -> db.sql("UPDATE secrets SET labels = 'current=1,previous=2' WHERE name = 'app/db'");
                case "latest_version" -> db.sql("UPDATE secrets SET latest_version = 1 WHERE name = 'app/db'");
                case "description" -> db.sql("UPDATE secrets SET description = 'x' WHERE name = 'app/db'");
                case "created_at" -> db.sql("UPDATE secrets SET created_at = created_at - 1 WHERE name = 'app/db'");
                case "created_by" -> db.sql("UPDATE secrets SET created_by = 'mallory' WHERE name = 'app/db'");
                case "updated_at" -> db.sql("UPDATE secrets SET updated_at = updated_at + 1 WHERE name = 'app/db'");
                case "destroyed" -> db.sql("UPDATE secrets SET destroyed = ? WHERE name = 'app/db'", db.bool(true));
                case "mac" -> db.sql("UPDATE secrets SET mac = ? WHERE name = 'app/db'", secretRow("team/g2").get("mac"));
                default -> throw new IllegalArgumentException(column);
            }
            // (a) the attacker gets nothing, even where the row now names her group.
            TresorException attacker = refused(reading("mallory", "app/db"));
            assertThat(attacker.failure()).isIn(Failure.FORBIDDEN, Failure.INTEGRITY);
            assertThat(f.tresor.secrets().list(f.auth("mallory"), null, null, 100)).extracting(SecretMeta::name)
                    .doesNotContain("app/db");
            // (b) the honest reader gets no value from the tampered row (no stale or swapped value)...
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(reading("alice", "app/db", 1))).isInstanceOf(IntegrityViolation.class);
            // (c) ... and it is reported.
            assertReported("secret app/db");
            // Listing skips it; admins cannot launder it by writing over it.
            assertThat(f.tresor.secrets().list(f.auth("alice"), null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("app/both");
            Caller root = f.root();
            assertThat(refused(() -> f.put(root, "app/db", "PW-3"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.put(f.auth("wendy"), "app/db", "PW-3"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.secrets().label(root, "app/db", "current", 1, null)))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.grant(root, "g2", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.secrets().delete(root, "app/db", false)))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> f.tresor.secrets().versions(root, "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertUntouchedStillWorks();
        }

        @Test
        void markingALiveSecretDeletedFailsClosed() {
            // Finding 9: this used to be a bare 403 for the reader (decided before the MAC check), so
            // the tampering went uncounted. Now every refused read of the row counts as a violation.
            db.sql("UPDATE secrets SET deleted_at = 1 WHERE name = 'app/db'");
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/db");
            assertThat(refused(() -> f.tresor.secrets().meta(f.auth("alice"), "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> secretsMeta("app/db"))).isInstanceOf(IntegrityViolation.class);
            // A reader outside every group of the row is still told nothing about it, but it is counted.
            clearAlarms();
            TresorException outsider = refused(reading("mallory", "app/db"));
            assertThat(outsider).isNotInstanceOf(IntegrityViolation.class);
            assertThat(outsider.failure()).isEqualTo(Failure.FORBIDDEN);
            assertReported("secret app/db");
            assertThat(f.tresor.secrets().list(f.auth("alice"), null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("app/both");
        }

        @Test
        void undeletingASoftDeletedSecretIsCaught() {
            f.tresor.secrets().delete(f.root(), "app/db", false);
            db.sql("UPDATE secrets SET deleted_at = NULL WHERE name = 'app/db'");
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/db");
            assertThat(refused(() -> f.tresor.secrets().restore(f.root(), "app/db"))).isInstanceOf(IntegrityViolation.class);
        }

        @Test
        void undestroyingADestroyedSecretBringsNoValueBack() {
            Map<String, Object> v2 = versionRow("app/db", 2);
            f.tresor.secrets().delete(f.root(), "app/db", true);
            // Flags back, and the old key and ciphertext written into the destroyed version row.
            db.sql("UPDATE secrets SET deleted_at = NULL, destroyed = ?, labels = 'current=2' WHERE name = 'app/db'",
                    db.bool(false));
            db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE secret_name = 'app/db' AND version = 2",
                    v2.get("wrapped_key"), v2.get("ciphertext"));
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(reading("alice", "app/db", 2))).isInstanceOf(IntegrityViolation.class);
            assertReportedStartingWith("secret app/db");
            assertThat(refused(() -> f.tresor.secrets().restore(f.root(), "app/db"))).isInstanceOf(IntegrityViolation.class);
        }

        // ================================================================== secret versions

        @ParameterizedTest(name = "secret_versions.{0}")
        @ValueSource(strings = {"ciphertext", "wrapped_key", "swap_both_between_versions", "swap_ciphertext_between_versions",
                "swap_wrapped_key_between_versions", "metadata", "created_at", "created_by", "expires_at_added", "mac",
                "renumbered"})
        void changingAVersionRowIsCaught(String change) {
            Map<String, Object> v1 = versionRow("app/db", 1);
            Map<String, Object> v2 = versionRow("app/db", 2);
            String where = "secret_name = 'app/db' AND version = 2";
            switch (change) {
                case "ciphertext" -> db.sql("UPDATE secret_versions SET ciphertext = ? WHERE " + where,
                        flip((byte[]) v2.get("ciphertext"), ((byte[]) v2.get("ciphertext")).length - 1));
                case "wrapped_key" -> db.sql("UPDATE secret_versions SET wrapped_key = ? WHERE " + where,
                        flip((byte[]) v2.get("wrapped_key"), ((byte[]) v2.get("wrapped_key")).length / 2));
                case "swap_both_between_versions" -> {
                    db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE " + where,
                            v1.get("wrapped_key"), v1.get("ciphertext"));
                    db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE secret_name = 'app/db' "
                            + "AND version = 1", v2.get("wrapped_key"), v2.get("ciphertext"));
                }
                case "swap_ciphertext_between_versions" -> {
                    db.sql("UPDATE secret_versions SET ciphertext = ? WHERE " + where, v1.get("ciphertext"));
                    db.sql("UPDATE secret_versions SET ciphertext = ? WHERE secret_name = 'app/db' AND version = 1",
                            v2.get("ciphertext"));
                }
                case "swap_wrapped_key_between_versions" -> {
                    db.sql("UPDATE secret_versions SET wrapped_key = ? WHERE " + where, v1.get("wrapped_key"));
                    db.sql("UPDATE secret_versions SET wrapped_key = ? WHERE secret_name = 'app/db' AND version = 1",
                            v2.get("wrapped_key"));
                }
                case "metadata" -> db.sql("UPDATE secret_versions SET metadata = '{\"x\":\"y\"}' WHERE " + where);
                case "created_at" -> db.sql("UPDATE secret_versions SET created_at = created_at + 1 WHERE " + where);
                case "created_by" -> db.sql("UPDATE secret_versions SET created_by = 'alice' WHERE " + where);
                case "expires_at_added" -> db.sql("UPDATE secret_versions SET expires_at = 1 WHERE " + where);
                case "mac" -> {
                    db.sql("UPDATE secret_versions SET mac = ? WHERE " + where, v1.get("mac"));
                    db.sql("UPDATE secret_versions SET mac = ? WHERE secret_name = 'app/db' AND version = 1", v2.get("mac"));
                }
                case "renumbered" -> db.transaction(
                        "UPDATE secret_versions SET version = 99 WHERE secret_name = 'app/db' AND version = 1",
                        "UPDATE secret_versions SET version = 1 WHERE secret_name = 'app/db' AND version = 2",
                        "UPDATE secret_versions SET version = 2 WHERE secret_name = 'app/db' AND version = 99");
                default -> throw new IllegalArgumentException(change);
            }
            // (a)+(b): the current version yields no value (in particular not version 1's value).
            TresorException e = refused(reading("alice", "app/db"));
            assertThat(e).isInstanceOf(IntegrityViolation.class);
            assertThat(e.failure()).isEqualTo(Failure.INTEGRITY);
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
            // (c)
            assertReported("secret app/db v2");
            // Version 1 is readable only where it was not touched.
            if (change.startsWith("swap") || change.equals("mac") || change.equals("renumbered")) {
                assertThat(refused(reading("alice", "app/db", 1))).isInstanceOf(IntegrityViolation.class);
            } else {
                assertThat(f.read(f.auth("alice"), "app/db", new VersionSelector(1, null))).isEqualTo("PW-1");
            }
            // The version list leaves out rows whose MAC fails. (Key and ciphertext are covered by the
            // AEAD, not the MAC: a list of metadata does not open envelopes, so it may still show them.)
            clearAlarms();
            onEveryNode(() -> {
                List<VersionMeta> versions = f.tresor.secrets().versions(f.auth("alice"), "app/db");
                if (!List.of("ciphertext", "wrapped_key").contains(change) && !change.startsWith("swap")) {
                    assertThat(versions).extracting(VersionMeta::version).doesNotContain(2);
                }
            });
            if (!List.of("ciphertext", "wrapped_key").contains(change) && !change.startsWith("swap")) {
                // Finding 9: the omission is itself counted and audited as a violation.
                assertReported("secret app/db v2");
            }
            assertUntouchedStillWorks();
        }

        @Test
        void extendingAnExpiryIsCaught() {
            f.tresor.secrets().put(f.root(), "app/db", new PutSecret(TresorFixture.bytes("PW-3"), null,
                    f.clock.instant().plus(Duration.ofHours(1)), null, null, null, null), f.tresor.groupCheck());
            f.clock.advance(Duration.ofHours(2));
            assertThat(refused(reading("alice", "app/db")).failure()).isEqualTo(Failure.GONE);
            db.sql("UPDATE secret_versions SET expires_at = ? WHERE secret_name = 'app/db' AND version = 3",
                    f.clock.millis() + Duration.ofDays(365).toMillis());
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/db v3");
            db.sql("UPDATE secret_versions SET expires_at = NULL WHERE secret_name = 'app/db' AND version = 3");
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
        }

        @Test
        void aKeyAndCiphertextCopiedFromAnotherSecretDoNotOpen() {
            // Mallory may read app/both; she copies app/db's current key and ciphertext into it.
            Map<String, Object> own = versionRow("app/both", 1);
            Map<String, Object> pw = versionRow("app/db", 2);
            db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ?, kek_id = ? "
                            + "WHERE secret_name = 'app/both' AND version = 1",
                    pw.get("wrapped_key"), pw.get("ciphertext"), pw.get("kek_id"));
            assertThat(refused(reading("mallory", "app/both"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/both v1");
            // Only the ciphertext, next to app/both's own key: the value is bound to its secret too.
            clearAlarms();
            db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE secret_name = 'app/both' AND version = 1",
                    own.get("wrapped_key"), pw.get("ciphertext"));
            assertThat(refused(reading("mallory", "app/both"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/both v1");
            // Only the key (of team/g2, which mallory may read), next to app/both's own ciphertext.
            clearAlarms();
            db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE secret_name = 'app/both' AND version = 1",
                    versionRow("team/g2", 1).get("wrapped_key"), own.get("ciphertext"));
            assertThat(refused(reading("mallory", "app/both"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/both v1");
            // Put back, it reads again: the refusals above were about the bytes, not a lasting state.
            db.sql("UPDATE secret_versions SET wrapped_key = ?, ciphertext = ? WHERE secret_name = 'app/both' AND version = 1",
                    own.get("wrapped_key"), own.get("ciphertext"));
            assertThat(f.read(f.auth("mallory"), "app/both")).isEqualTo("BOTH-1");
        }

        @Test
        void aWholeVersionRowMovedToAnotherSecretIsCaught() {
            db.transaction(
                    "DELETE FROM secret_versions WHERE secret_name = 'app/both' AND version = 1",
                    "UPDATE secret_versions SET secret_name = 'app/both', version = 1 WHERE secret_name = 'app/db' AND version = 2");
            assertThat(refused(reading("mallory", "app/both"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/both v1");
        }

        @Test
        void swappingWholeSecretsIsCaught() {
            // Rename app/db's rows to team/g2 and back: the rows travel with their MACs and group lists.
            db.transaction(
                    "UPDATE secrets SET name = 'tmp' WHERE name = 'app/db'",
                    "UPDATE secrets SET name = 'app/db' WHERE name = 'team/g2'",
                    "UPDATE secrets SET name = 'team/g2' WHERE name = 'tmp'",
                    "UPDATE secret_versions SET secret_name = 'tmp' WHERE secret_name = 'app/db'",
                    "UPDATE secret_versions SET secret_name = 'app/db' WHERE secret_name = 'team/g2'",
                    "UPDATE secret_versions SET secret_name = 'team/g2' WHERE secret_name = 'tmp'",
                    "UPDATE grants SET secret_name = 'tmp' WHERE secret_name = 'app/db'",
                    "UPDATE grants SET secret_name = 'app/db' WHERE secret_name = 'team/g2'",
                    "UPDATE grants SET secret_name = 'team/g2' WHERE secret_name = 'tmp'");
            // The row now called team/g2 still lists g1 (mallory is refused before any check), and
            // the row called app/db lists g2 (alice likewise); neither leaks a value.
            refused(reading("mallory", "team/g2"));
            refused(reading("alice", "app/db"));
            assertThat(f.tresor.secrets().list(f.auth("mallory"), null, null, 100)).extracting(SecretMeta::name)
                    .doesNotContain("team/g2");
            // Whoever the rows still name as readers gets an integrity refusal, and the admin view reports both.
            assertThat(refused(reading("mallory", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(reading("alice", "team/g2"))).isInstanceOf(IntegrityViolation.class);
            assertThat(f.tresor.secrets().list(f.root(), null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("app/both");
            assertReported("secret app/db");
            assertReported("secret team/g2");
        }

        @Test
        void changingTheKekIdOfAVersionIsHarmless() {
            // kek_id is not covered by the row MAC: it only names which KEK wrapped the key, and the
            // AEAD decides. Changing it must not change what anyone reads.
            db.sql("UPDATE secret_versions SET kek_id = 'local:0' WHERE secret_name = 'app/db'");
            assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-2");
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
        }

        @Test
        void deletingAVersionRowFailsClosed() {
            // A missing row cannot be told from a lost one, but the secret row says it should exist.
            db.sql("DELETE FROM secret_versions WHERE secret_name = 'app/db' AND version = 2");
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/db v2");
            assertThat(f.read(f.auth("alice"), "app/db", new VersionSelector(1, null))).isEqualTo("PW-1");
        }

        @Test
        void deletingASecretRowFailsClosed() {
            // Undetectable at read time (the secret simply does not exist), but nothing is revealed.
            db.sql("DELETE FROM secrets WHERE name = 'app/db'");
            assertThat(refused(reading("alice", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(refused(() -> secretsMeta("app/db")).failure()).isEqualTo(Failure.NOT_FOUND);
        }

        // ================================================================== grants

        @Test
        void aForgedGrantRowRevealsNothing() {
            db.insert("grants", Map.of("group_name", "g2", "secret_name", "app/db", "mac", new byte[32]));
            assertForgedGrantHarmless();
        }

        @Test
        void aReplayedRevokedGrantRowRevealsNothing() {
            Caller root = f.root();
            f.tresor.grant(root, "g2", "app/db");
            Map<String, Object> grant = db.row("grants", "group_name = 'g2' AND secret_name = 'app/db'");
            f.tresor.revoke(root, "g2", "app/db");
            db.insert("grants", grant);
            assertForgedGrantHarmless();
        }

        /** Finding 5: a deleted grant row used to keep the group in the sealed list through `group rm`. */
        @Test
        void aGroupCreatedAgainAfterItsGrantRowWasDeletedInheritsNothing() {
            Caller root = f.root();
            db.sql("DELETE FROM grants WHERE group_name = 'g2' AND secret_name = 'team/g2'");
            f.tresor.deleteGroup(root, "g2");
            assertThat(secretsMeta("team/g2").groups()).isEmpty();
            assertThat(secretsMeta("app/both").groups()).containsExactly("g1");
            f.tresor.createGroup(root, "g2", "a new team that happens to reuse the name");
            f.tresor.addMember(root, "g2", "wendy", Role.READ);
            assertThat(refused(reading("wendy", "team/g2")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(f.tresor.getGroup(root, "g2").secrets()).isEmpty();
        }

        /** Finding 5: a group row deleted behind Tresor's back leaves secrets sealed to its name. */
        @Test
        void aGroupWhoseRowWasDeletedCannotBeCreatedAgainWithItsName() {
            Caller root = f.root();
            db.sql("DELETE FROM memberships WHERE group_name = 'g2'");
            db.sql("DELETE FROM tresor_groups WHERE name = 'g2'");
            IntegrityViolation v = (IntegrityViolation) refused(() -> f.tresor.createGroup(root, "g2", null));
            assertThat(v.problem()).contains("still sealed to a group of this name");
            assertReported("group g2");
            assertThat(db.rows("tresor_groups", "name = ?", "g2")).isEmpty();
            // Another name still works.
            assertThat(f.tresor.createGroup(root, "g3", null).name()).isEqualTo("g3");
        }

        private void assertForgedGrantHarmless() {
            onEveryNode(this::assertForgedGrantHarmlessHere);
            assertReported("grant g2 -> app/db");
        }

        private void assertForgedGrantHarmlessHere() {
            Caller mallory = f.auth("mallory");
            assertThat(f.tresor.secrets().list(mallory, null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("app/both", "team/g2");
            assertThat(f.tresor.secrets().list(mallory, "app/", null, 100)).extracting(SecretMeta::name)
                    .containsExactly("app/both");
            assertThat(refused(reading("mallory", "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(refused(() -> f.tresor.secrets().versions(mallory, "app/db")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(f.tresor.getGroup(f.root(), "g2").secrets()).containsExactly("app/both", "team/g2");
            assertThat(secretsMeta("app/db").groups()).containsExactly("g1");
        }

        // ================================================================== replays across a revoke

        @Test
        void anOldVersionRowReInsertedAfterARevokeDoesNotDecrypt() {
            Map<String, Object> oldV1 = versionRow("app/both", 1); // key bound to [g1, g2]
            f.tresor.revoke(f.root(), "g2", "app/both");
            assertThat(refused(reading("mallory", "app/both")).failure()).isEqualTo(Failure.FORBIDDEN);
            restoreRow("secret_versions", oldV1, "secret_name = ? AND version = ?", "app/both", 1);
            // Its MAC is valid (the MAC covers metadata, not the key), but the key no longer opens
            // under the secret's group list [g1].
            assertThat(refused(reading("mallory", "app/both")).failure()).isEqualTo(Failure.FORBIDDEN);
            assertThat(refused(reading("alice", "app/both"))).isInstanceOf(IntegrityViolation.class);
            assertReported("secret app/both v1");
            // Adding g2 back to the group list by hand breaks the secret row's MAC instead.
            db.sql("UPDATE secrets SET groups = 'g1,g2' WHERE name = 'app/both'");
            assertThat(refused(reading("mallory", "app/both"))).isInstanceOf(IntegrityViolation.class);
        }

        /**
         * The secret row and its version rows, captured together before a revoke and put back after
         * it: every row verifies on its own and they match each other. The secret ledger bucket
         * lists the current row's MAC, so the replayed row is refused.
         */
        @Test
        void replayingASecretsRowsFromBeforeARevokeDoesNotRestoreAccess() {
            Map<String, Object> oldSecret = secretRow("app/both");
            Map<String, Object> oldV1 = versionRow("app/both", 1);
            Map<String, Object> oldGrant = db.row("grants", "group_name = 'g2' AND secret_name = 'app/both'");
            f.tresor.revoke(f.root(), "g2", "app/both");
            assertThat(refused(reading("mallory", "app/both")).failure()).isEqualTo(Failure.FORBIDDEN);

            restoreRow("secrets", oldSecret, "name = ?", "app/both");
            restoreRow("secret_versions", oldV1, "secret_name = ? AND version = ?", "app/both", 1);
            db.insert("grants", oldGrant);
            refused(reading("mallory", "app/both"));
            assertReportedStartingWith("secret app/both");
        }

        @Test
        void replayingAnOlderSecretRowDoesNotServeAStaleValue() {
            Map<String, Object> old = secretRow("app/db"); // current = 2
            f.put(f.auth("wendy"), "app/db", "PW-3");    // a rotation: current = 3
            assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-3");
            restoreRow("secrets", old, "name = ?", "app/db");
            // The old, rotated-away password must not be served as current.
            refused(reading("alice", "app/db"));
            assertReportedStartingWith("secret app/db");
        }

        @Test
        void replayingADestroyedSecretsRowsDoesNotBringItsValuesBack() {
            Map<String, Object> oldSecret = secretRow("app/db");
            Map<String, Object> oldV2 = versionRow("app/db", 2);
            f.tresor.secrets().delete(f.root(), "app/db", true);
            restoreRow("secrets", oldSecret, "name = ?", "app/db");
            restoreRow("secret_versions", oldV2, "secret_name = ? AND version = ?", "app/db", 2);
            // "destroy erases every version's data key": the erased value must stay erased.
            refused(reading("alice", "app/db"));
            assertReportedStartingWith("secret app/db");
        }

        /** The replay above, plus the ledger bucket from the same moment: the running node remembers the newer epoch. */
        @Test
        void replayingASecretTogetherWithItsLedgerBucketIsCaughtByTheRunningNode() {
            replayAppBothWithItsBucketAcrossARevoke(true);
            refused(reading("mallory", "app/both"));
            assertReportedStartingWith("secret app/both");
        }

        /**
         * The journal only ever adds to what a node knows: emptied, or with a forged row, it makes
         * a node re-read every bucket against the head's sum, which holds, so nothing is refused
         * and no alarm is raised; and a replay after that is still caught.
         */
        @Test
        void emptyingOrForgingTheLedgerJournalDeniesNothingAndHidesNothing() {
            f.tresor.secrets().put(f.root(), "app/db", new PutSecret(TresorFixture.bytes("DB-3"), null, null, null, null, null, null),
                    f.tresor.groupCheck());
            db.sql("UPDATE secret_journal SET bucket = 0");
            f.tresor.secrets().put(f.root(), "app/db", new PutSecret(TresorFixture.bytes("DB-4"), null, null, null, null, null, null),
                    f.tresor.groupCheck());
            db.sql("DELETE FROM secret_journal");
            assertUntouchedStillWorks();
            onEveryNode(() -> assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("DB-4"));
            assertThat(f.nodes()).allSatisfy(n -> assertThat(n.monitor().subjects()).isEmpty());

            replayAppBothWithItsBucketAcrossARevoke(false);
            onEveryNode(() -> refused(reading("mallory", "app/both")));
        }

        /**
         * Captures app/both's rows and its ledger bucket (every node has read them in the world),
         * revokes g2 on the first node, lets the first node (or every node) read the newer epoch, and
         * puts the captured rows back.
         */
        void replayAppBothWithItsBucketAcrossARevoke(boolean everyNodeSeesTheNewerEpoch) {
            Runnable seeTheNewerEpoch = () -> assertThat(f.read(f.auth("alice"), "app/both")).isEqualTo("BOTH-1");
            replayAppBothWithItsBucketAcrossARevoke(() -> {
                if (everyNodeSeesTheNewerEpoch) {
                    onEveryNode(seeTheNewerEpoch);
                } else {
                    seeTheNewerEpoch.run();
                }
            });
        }

        /** As above, with {@code afterRevoke} run between the revoke (on the first node) and the replay. */
        void replayAppBothWithItsBucketAcrossARevoke(Runnable afterRevoke) {
            int bucket = dev.tresor.integrity.SecretLedger.bucketOf("app/both");
            Map<String, Object> oldSecret = secretRow("app/both");
            Map<String, Object> oldV1 = versionRow("app/both", 1);
            Map<String, Object> oldBucket = db.row("secret_buckets", "bucket = " + bucket);
            assertThat(f.read(f.auth("mallory"), "app/both")).isEqualTo("BOTH-1"); // the node has seen the bucket
            f.tresor.revoke(f.root(), "g2", "app/both");
            afterRevoke.run();

            restoreRow("secrets", oldSecret, "name = ?", "app/both");
            restoreRow("secret_versions", oldV1, "secret_name = ? AND version = ?", "app/both", 1);
            restoreRow("secret_buckets", oldBucket, "bucket = ?", bucket);
        }

        /**
         * The replay right after the node's own revoke, with no read in between: the node made the
         * newer epoch, so it knows it (it used to learn an epoch only by reading the bucket, and
         * served the revoked reader again until then).
         */
        @Test
        void replayingASecretWithItsBucketRightAfterTheNodesOwnWriteIsCaughtByThatNode() {
            TresorFixture.Node writer = f.nodes().getFirst();
            replayAppBothWithItsBucketAcrossARevoke(() -> {});
            f.on(writer, () -> refusedHere("the node that revoked", reading("mallory", "app/both")));
            assertThat(writer.monitor().subjects()).anyMatch(s -> s.startsWith("secret app/both"));
        }

        /** The same rollback while no node runs: the ledger head's sum no longer adds up, so start-up refuses. */
        @Test
        void replayingASecretTogetherWithItsLedgerBucketIsCaughtAtStartUp() {
            int bucket = dev.tresor.integrity.SecretLedger.bucketOf("app/both");
            Map<String, Object> oldSecret = secretRow("app/both");
            Map<String, Object> oldV1 = versionRow("app/both", 1);
            Map<String, Object> oldBucket = db.row("secret_buckets", "bucket = " + bucket);
            f.tresor.revoke(f.root(), "g2", "app/both");

            restoreRow("secrets", oldSecret, "name = ?", "app/both");
            restoreRow("secret_versions", oldV1, "secret_name = ? AND version = ?", "app/both", 1);
            restoreRow("secret_buckets", oldBucket, "bucket = ?", bucket);
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("secret ledger");
            assertReportedAtStart("secret ledger");
        }

        /** Rolling back the head too, to match the old bucket, breaks the sum over every other bucket. */
        @Test
        void replayingTheLedgerHeadWithTheBucketStillFailsAtStartUp() {
            int bucket = dev.tresor.integrity.SecretLedger.bucketOf("app/both");
            Map<String, Object> oldSecret = secretRow("app/both");
            Map<String, Object> oldBucket = db.row("secret_buckets", "bucket = " + bucket);
            Map<String, Object> oldHead = db.row("secret_head", "id = 1");
            f.tresor.revoke(f.root(), "g2", "app/both");
            f.put(f.auth("wendy"), "app/db", "PW-3"); // another secret changes after the snapshot

            restoreRow("secrets", oldSecret, "name = ?", "app/both");
            restoreRow("secret_buckets", oldBucket, "bucket = ?", bucket);
            restoreRow("secret_head", oldHead, "id = ?", 1);
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class);
            assertReportedAtStart("secret ledger");
        }

        @Test
        void deletingALedgerBucketFailsClosedForItsSecrets() {
            int bucket = dev.tresor.integrity.SecretLedger.bucketOf("app/db");
            db.sql("DELETE FROM secret_buckets WHERE bucket = " + bucket);
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReportedStartingWith("secret app/db");
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class);
        }

        @Test
        void editingALedgerBucketFailsClosed() {
            int bucket = dev.tresor.integrity.SecretLedger.bucketOf("app/db");
            db.sql("UPDATE secret_buckets SET epoch = epoch + 1 WHERE bucket = " + bucket);
            assertThat(refused(reading("alice", "app/db"))).isInstanceOf(IntegrityViolation.class);
            assertReportedStartingWith("secret app/db");
        }

        // ================================================================== keys

        @Test
        void aRowMacKeyFromAStoreWithAnotherKekIsRefusedAtOpen() {
            try (TresorFixture other = TresorFixture.create(kind, keks)) {
                byte[] foreign = (byte[]) other.db.row("crypto_keys", "purpose = 'row-mac'").get("wrapped");
                db.sql("UPDATE crypto_keys SET wrapped = ? WHERE purpose = 'row-mac'", foreign);
            }
            // The KEK still opens this store's keyring, so the foreign key row is a tampered row (schema 6).
            clearAlarms();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContaining("row MAC key");
            assertReportedAtStart("crypto_keys");
            // The running node keeps the key it unwrapped at start.
            assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-2");
        }

        @Test
        void aRowMacKeyFromAnotherStoreWithTheSameKekFailsClosed() {
            // Same KEK (say, staging and production share an HSM key): the foreign key unwraps, but no
            // row of this store verifies under it, so nothing is trusted.
            Tresor otherStore;
            try (TestDatabase otherDb = kind.create(); var store = otherDb.open()) {
                otherStore = Tresor.open(store, f.kek, f.monitor, f.clock);
                otherStore.bootstrapAdmin("root", id("root"));
                byte[] foreign = (byte[]) otherDb.row("crypto_keys", "purpose = 'row-mac'").get("wrapped");
                db.sql("UPDATE crypto_keys SET wrapped = ? WHERE purpose = 'row-mac'", foreign);
            }
            assertThat(otherStore).isNotNull();
            clearAlarms();
            Tresor restarted;
            try {
                restarted = f.reopen();
            } catch (IllegalStateException | IntegrityViolation refusedAtOpen) {
                return; // refusing to open is fine too (the secret ledger no longer verifies)
            }
            assertThat(refused(() -> restarted.authenticate(id("root")))).isInstanceOf(IntegrityViolation.class);
            assertThat(refused(() -> restarted.authenticate(id("alice")))).isInstanceOf(IntegrityViolation.class);
            assertReportedAtStart("ACL head");
        }

        @Test
        void deletingTheRowMacKeyFailsClosed() {
            db.sql("DELETE FROM crypto_keys");
            clearAlarms();
            // A fresh key would let whoever deleted the row start over; the store holds data, so open refuses.
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class);
            assertReportedAtStart("crypto_keys");
            assertThat(db.rows("crypto_keys", "1 = 1")).isEmpty();
        }

        @Test
        void aSecondTresorWithAnotherKekFailsClearlyAndReadsNothing() {
            Map<String, Object> before = db.row("crypto_keys", "purpose = 'row-mac'");
            dev.tresor.crypto.KeyProvider otherKek = keks.create(f.dir, "other-kek");
            assertThatThrownBy(() -> Tresor.open(f.openStore(), otherKek, f.monitor, f.clock))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("KEK")
                    .hasMessageContaining(otherKek.keyId());
            // It changed nothing, and the right KEK still opens the store.
            assertThat(db.row("crypto_keys", "purpose = 'row-mac'")).usingRecursiveComparison().isEqualTo(before);
            Tresor restarted = f.reopen();
            assertThat(new String(restarted.secrets().read(restarted.authenticate(id("alice")), "app/db",
                    VersionSelector.current(), false).value(), StandardCharsets.UTF_8)).isEqualTo("PW-2");
        }

        // ================================================================== nothing in clear

        @Test
        void nothingStoredIsPlaintext() throws Exception {
            String canary = "PLAINTEXT-CANARY-123";
            Caller root = f.root();
            f.put(root, "canary/text", canary, "g1");
            byte[] binary = new byte[64];
            new java.util.Random(3).nextBytes(binary);
            byte[] embedded = (new String(binary, StandardCharsets.ISO_8859_1) + canary + "\u0000")
                    .getBytes(StandardCharsets.ISO_8859_1);
            f.put(root, "canary/bytes", new PutSecret(embedded, null, null, List.of("g1"), null, null, null));
            f.put(root, "canary/text", canary + "-v2");
            f.tresor.grant(root, "g2", "canary/text"); // re-wraps every data key
            f.put(root, "canary/gone", canary, "g1");
            f.tresor.secrets().delete(root, "canary/gone", true);
            assertThat(f.read(f.auth("alice"), "canary/text")).isEqualTo(canary + "-v2");

            List<byte[]> needles = new ArrayList<>(encodings(canary.getBytes(StandardCharsets.UTF_8)));
            needles.add(canary.getBytes(StandardCharsets.UTF_16LE));
            needles.add(canary.getBytes(StandardCharsets.UTF_16BE));
            // Keys in clear: every data key, every keyring key, the row-MAC key and the KEK itself.
            Map<String, byte[]> keys = new LinkedHashMap<>(KeyMaterial.dataKeys(db, f.kek));
            keys.putAll(KeyMaterial.keyringKeys(db, f.kek));
            keys.put("row-mac key", KeyMaterial.rowMacKey(db, f.kek));
            Path kekFile = keks.keyFile(f.dir, "kek");
            if (kekFile != null) {
                keys.put("KEK", KeyMaterial.kek(kekFile));
            }
            // A KEK held by a KMS or an HSM has no bytes here; the data keys, keyring keys and row MAC key remain.
            assertThat(keys).hasSizeGreaterThanOrEqualTo(kekFile != null ? 6 : 5);
            keys.values().forEach(k -> needles.addAll(encodings(k)));

            List<String> found = new ArrayList<>();
            int cells = 0;
            for (String table : db.tables()) {
                for (Map<String, Object> row : db.rows(table, null)) {
                    for (var column : row.entrySet()) {
                        byte[] hay = switch (column.getValue()) {
                            case byte[] b -> b;
                            case String s -> s.getBytes(StandardCharsets.UTF_8);
                            case null, default -> null;
                        };
                        if (hay == null) {
                            continue;
                        }
                        cells++;
                        for (byte[] needle : needles) {
                            if (indexOf(hay, needle) >= 0) {
                                found.add(table + "." + column.getKey());
                            }
                        }
                    }
                }
            }
            assertThat(db.tables()).contains("clients", "secrets", "secret_versions", "crypto_keys", "acl_head");
            assertThat(cells).isGreaterThan(50);
            assertThat(found).as("columns holding a value or key in clear").isEmpty();
            // Positive control: the scan does find what is stored in clear on purpose (a secret's name).
            boolean control = false;
            for (Map<String, Object> row : db.rows("secret_versions", null)) {
                control |= indexOf(((String) row.get("secret_name")).getBytes(StandardCharsets.UTF_8),
                        "canary/bytes".getBytes(StandardCharsets.UTF_8)) >= 0;
            }
            assertThat(control).isTrue();
            // SQLite: the database files themselves (including the WAL), byte for byte.
            if (kind == TestDatabase.Kind.SQLITE) {
                Path folder = db.config().sqlitePath().toAbsolutePath().getParent();
                try (var files = java.nio.file.Files.list(folder)) {
                    for (Path file : files.toList()) {
                        byte[] content = java.nio.file.Files.readAllBytes(file);
                        for (byte[] needle : needles) {
                            assertThat(indexOf(content, needle)).as(file + " holds a value or key in clear").isEqualTo(-1);
                        }
                    }
                }
            }
        }

        /** Raw, hex and Base64 (at every alignment) forms of some bytes. */
        static List<byte[]> encodings(byte[] raw) {
            List<byte[]> out = new ArrayList<>();
            out.add(raw);
            out.add(HexFormat.of().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
            out.add(HexFormat.of().withUpperCase().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
            for (int pad = 0; pad < 3; pad++) {
                byte[] padded = new byte[pad + raw.length];
                System.arraycopy(raw, 0, padded, pad, raw.length);
                String b64 = Base64.getEncoder().encodeToString(padded);
                // Drop the characters that depend on the padding bytes or the end.
                int skip = (pad * 8 + 5) / 6 + 1;
                out.add(b64.substring(skip, b64.length() - 4).getBytes(StandardCharsets.US_ASCII));
            }
            return out;
        }

        static int indexOf(byte[] hay, byte[] needle) {
            outer:
            for (int i = 0; i + needle.length <= hay.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (hay[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }
}
