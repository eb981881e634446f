package dev.tresor.access;

import static dev.tresor.access.TresorFixture.id;
import static dev.tresor.access.TresorFixture.outcome;
import static dev.tresor.access.TresorFixture.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.model.ClientView;
import dev.tresor.model.Failure;
import dev.tresor.model.GroupView;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionSelector;
import dev.tresor.secrets.SecretService;
import dev.tresor.store.TestDatabase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Who may do what, through the {@link Tresor} facade, on both stores.
 *
 * <p>The world: {@code root} (admin, no group), {@code ops} (admin, reads g2), {@code reader} (reads g1),
 * {@code writer} (writes g1), {@code other} (reads g2); secrets granted to g1, g2, both and none, plus
 * a name that does not exist. Every (client, secret, operation) cell has one expected outcome.
 */
class AuthorizationMatrixTest {

    @Nested
    class SQLite extends Matrix {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Matrix {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Matrix {

        static final String OK = "OK";
        static final String F = "F";
        static final String N = "N";
        static final String C = "C";

        static final List<String> CLIENTS = List.of("root", "ops", "reader", "writer", "other");
        /** The last column is a secret that does not exist (a fresh name per client and operation). */
        static final List<String> SECRETS = List.of("s/g1", "s/g2", "s/both", "s/none", "MISSING");

        private final TestDatabase.Kind kind;
        TresorFixture f;
        Tresor tresor;
        SecretService secrets;

        Matrix(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            tresor = f.tresor;
            secrets = tresor.secrets();
            for (String g : List.of("g1", "g2", "g3")) {
                f.group(g);
            }
            f.client("ops", true, Role.READ, "g2");
            f.client("reader", false, Role.READ, "g1");
            f.client("writer", false, Role.WRITE, "g1");
            f.client("other", false, Role.READ, "g2");
            var root = f.root();
            f.put(root, "s/g1", "value-of-s/g1", "g1");
            f.put(root, "s/g2", "value-of-s/g2", "g2");
            f.put(root, "s/both", "value-of-s/both", "g1", "g2");
            f.put(root, "s/none", "value-of-s/none");
            f.monitor.clear();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        /** Rows: clients in {@link #CLIENTS} order; columns: secrets in {@link #SECRETS} order. */
        private static Map<String, List<String>> table(String... rows) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (int i = 0; i < CLIENTS.size(); i++) {
                out.put(CLIENTS.get(i), List.of(rows[i].trim().split("\\s+")));
            }
            return out;
        }

        private static String name(String secret, String client, String op) {
            return secret.equals("MISSING") ? "missing/" + op + "/" + client : secret;
        }

        private static String describe(Failure failure) {
            if (failure == null) {
                return OK;
            }
            return switch (failure) {
                case FORBIDDEN -> F;
                case NOT_FOUND -> N;
                case CONFLICT -> C;
                default -> failure.name();
            };
        }

        /**
         * Runs {@code op} for every cell and compares with {@code expected}; collects every mismatch so
         * one run shows the whole picture. Each client re-authenticates for every cell, as the server
         * does per request.
         */
        private void check(String op, Map<String, List<String>> expected, BiFunction<Caller, String, Runnable> action,
                           List<String> mismatches) {
            for (String client : CLIENTS) {
                for (int s = 0; s < SECRETS.size(); s++) {
                    String secret = name(SECRETS.get(s), client, op);
                    Caller caller = f.auth(client);
                    String got = describe(outcome(action.apply(caller, secret)));
                    String want = expected.get(client).get(s);
                    if (!got.equals(want)) {
                        mismatches.add(op + "(" + client + ", " + secret + "): expected " + want + " but got " + got);
                    }
                }
            }
        }

        @Test
        void everyClientSecretAndOperation() {
            List<String> mismatches = new ArrayList<>();

            // Admins read values only through a group; non-admins cannot tell "missing" from "not yours".
            check("read", table(
                    "F  F  F  F  N",
                    "F  OK OK F  N",
                    "OK F  OK F  F",
                    "OK F  OK F  F",
                    "F  OK OK F  F"), (c, s) -> () -> {
                        String v = f.read(c, s);
                        assertThat(v).isEqualTo("value-of-" + s);
                    }, mismatches);

            check("versions", table(
                    "OK OK OK OK N",
                    "OK OK OK OK N",
                    "OK F  OK F  F",
                    "OK F  OK F  F",
                    "F  OK OK F  F"), (c, s) -> () -> assertThat(secrets.versions(c, s)).hasSize(1), mismatches);

            check("meta", table(
                    "OK OK OK OK N",
                    "OK OK OK OK N",
                    "OK F  OK F  F",
                    "OK F  OK F  F",
                    "F  OK OK F  F"), (c, s) -> () -> assertThat(secrets.meta(c, s).name()).isEqualTo(s), mismatches);

            // Listing is checked as exact sets below; metadata only, never values.
            Map<String, List<String>> listed = new LinkedHashMap<>();
            for (String client : CLIENTS) {
                listed.put(client, secrets.list(f.auth(client), null, null, 100).stream().map(SecretMeta::name).toList());
            }
            assertThat(listed).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "root", List.of("s/both", "s/g1", "s/g2", "s/none"),
                    "ops", List.of("s/both", "s/g1", "s/g2", "s/none"),
                    "reader", List.of("s/both", "s/g1"),
                    "writer", List.of("s/both", "s/g1"),
                    "other", List.of("s/both", "s/g2")));

            // A new version (no groups in the request). Admins may create; the write role may add versions.
            check("put", table(
                    "OK OK OK OK OK",
                    "OK OK OK OK OK",
                    "F  F  F  F  F",
                    "OK F  OK F  F",
                    "F  F  F  F  F"), (c, s) -> () -> secrets.put(c, s, value("new " + s), tresor.groupCheck()), mismatches);

            // Move "current" back to version 1.
            check("label", table(
                    "OK OK OK OK N",
                    "OK OK OK OK N",
                    "F  F  F  F  F",
                    "OK F  OK F  F",
                    "F  F  F  F  F"), (c, s) -> () -> secrets.label(c, s, VersionSelector.CURRENT, 1, null), mismatches);

            // Soft delete; when it succeeds, root restores at once so later cells see the same world.
            check("delete", table(
                    "OK OK OK OK N",
                    "OK OK OK OK N",
                    "F  F  F  F  F",
                    "F  F  F  F  F",
                    "F  F  F  F  F"), (c, s) -> () -> {
                        secrets.delete(c, s, false);
                        secrets.restore(f.root(), s);
                    }, mismatches);

            // Restoring a secret that is not deleted is a conflict for admins.
            check("restore", table(
                    "C  C  C  C  N",
                    "C  C  C  C  N",
                    "F  F  F  F  F",
                    "F  F  F  F  F",
                    "F  F  F  F  F"), (c, s) -> () -> secrets.restore(c, s), mismatches);

            // Grant to g3 (no members); when it succeeds root revokes it again.
            check("grant", table(
                    "OK OK OK OK N",
                    "OK OK OK OK N",
                    "F  F  F  F  F",
                    "F  F  F  F  F",
                    "F  F  F  F  F"), (c, s) -> () -> {
                        tresor.grant(c, "g3", s);
                        tresor.revoke(f.root(), "g3", s);
                    }, mismatches);

            check("revoke", table(
                    "N  N  N  N  N",
                    "N  N  N  N  N",
                    "F  F  F  F  F",
                    "F  F  F  F  F",
                    "F  F  F  F  F"), (c, s) -> () -> tresor.revoke(c, "g3", s), mismatches);

            assertThat(mismatches).isEmpty();
            // Nothing here was tampering.
            assertThat(f.monitor.violations()).isEmpty();
            // The cells did not change who may read what.
            assertThat(f.read(f.auth("reader"), "s/g1", new VersionSelector(2, null))).isEqualTo("new s/g1");
            assertThat(secrets.meta(f.root(), "s/both").groups()).containsExactly("g1", "g2");
        }

        @Test
        void adminOnlyOperationsAreForbiddenToEveryoneElse() {
            for (String client : List.of("reader", "writer", "other")) {
                Caller c = f.auth(client);
                List<Runnable> adminOps = List.of(
                        () -> tresor.listClients(c),
                        () -> tresor.getClient(c, "reader"),
                        () -> tresor.createClient(c, "x", id("x"), false),
                        () -> tresor.createClient(c, "x", id("x"), true),
                        () -> tresor.deleteClient(c, "reader"),
                        () -> tresor.listGroups(c),
                        () -> tresor.getGroup(c, "g1"),
                        () -> tresor.createGroup(c, "gx", null),
                        () -> tresor.deleteGroup(c, "g1"),
                        () -> tresor.addMember(c, "g2", client, Role.WRITE),
                        () -> tresor.addMember(c, "g1", client, Role.WRITE),
                        () -> tresor.removeMember(c, "g1", "reader"),
                        () -> tresor.grant(c, "g1", "s/g2"),
                        () -> tresor.revoke(c, "g1", "s/g1"),
                        () -> secrets.put(c, "s/g1", new PutSecret(TresorFixture.bytes("x"), null, null,
                                List.of("g1", "g2"), null, null, null), tresor.groupCheck()),
                        () -> secrets.put(c, "brand/new", value("x"), tresor.groupCheck()),
                        () -> secrets.delete(c, "s/g1", true));
                for (Runnable op : adminOps) {
                    assertThat(outcome(op)).as(client).isEqualTo(Failure.FORBIDDEN);
                }
            }
            // None of it had an effect.
            assertThat(tresor.listClients(f.root())).extracting(ClientView::name)
                    .containsExactlyInAnyOrder("root", "ops", "reader", "writer", "other");
            assertThat(f.auth("reader").groups()).containsExactlyEntriesOf(Map.of("g1", Role.READ));
            assertThat(secrets.meta(f.root(), "s/g1").groups()).containsExactly("g1");
            assertThat(outcome(() -> secrets.meta(f.root(), "brand/new"))).isEqualTo(Failure.NOT_FOUND);
        }

        @Test
        void unknownIdentitiesAreUnauthenticated() {
            for (String identity : List.of(id("nobody"), "CN=root", "spiffe://tresor.local/ns/test/sa/ROOT", "root", "")) {
                assertThatThrownBy(() -> tresor.authenticate(identity)).isInstanceOf(TresorException.class)
                        .extracting(e -> ((TresorException) e).failure()).isEqualTo(Failure.UNAUTHENTICATED);
            }
        }

        @Test
        void revokingAGrantDeniesTheReaderImmediately() {
            Caller reader = f.auth("reader");
            assertThat(f.read(reader, "s/both")).isEqualTo("value-of-s/both");
            tresor.revoke(f.root(), "g1", "s/both");
            // Even the Caller authenticated before the revoke: the secret row decides, read fresh.
            assertThat(outcome(() -> f.read(reader, "s/both"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.versions(reader, "s/both"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.list(reader, null, null, 100)).extracting(SecretMeta::name).containsExactly("s/g1");
            assertThat(outcome(() -> f.read(f.auth("reader"), "s/both"))).isEqualTo(Failure.FORBIDDEN);
            // The writer of g1 loses write access too; g2 keeps reading.
            assertThat(outcome(() -> secrets.put(f.auth("writer"), "s/both", value("x"), tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(f.read(f.auth("other"), "s/both")).isEqualTo("value-of-s/both");
            assertThat(tresor.getGroup(f.root(), "g1").secrets()).containsExactly("s/g1");
            // Granting again restores access to the existing versions.
            tresor.grant(f.root(), "g1", "s/both");
            assertThat(f.read(f.auth("reader"), "s/both")).isEqualTo("value-of-s/both");
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void removingAMembershipDeniesOnTheNextRequest() {
            assertThat(f.read(f.auth("reader"), "s/g1")).isEqualTo("value-of-s/g1");
            tresor.removeMember(f.root(), "g1", "reader");
            // The server authenticates every request; the fresh Caller has no group left.
            Caller reader = f.auth("reader");
            assertThat(reader.groups()).isEmpty();
            assertThat(outcome(() -> f.read(reader, "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> f.read(reader, "s/both"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.list(reader, null, null, 100)).isEmpty();
            assertThat(tresor.whoami(reader).groups()).isEmpty();
            // In a group's view each member names a client and its role.
            assertThat(tresor.getGroup(f.root(), "g1").clients())
                    .containsExactly(new GroupView.Member("writer", "write"));
            // Removing a membership that is not there is a 404, not a silent success.
            assertThat(outcome(() -> tresor.removeMember(f.root(), "g1", "reader"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void changingARoleTakesEffectOnTheNextRequest() {
            tresor.addMember(f.root(), "g1", "writer", Role.READ);
            Caller demoted = f.auth("writer");
            assertThat(demoted.groups()).containsExactlyEntriesOf(Map.of("g1", Role.READ));
            assertThat(outcome(() -> secrets.put(demoted, "s/g1", value("x"), tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.label(demoted, "s/g1", "current", 1, null))).isEqualTo(Failure.FORBIDDEN);
            assertThat(f.read(demoted, "s/g1")).isEqualTo("value-of-s/g1");
            tresor.addMember(f.root(), "g1", "reader", Role.WRITE);
            assertThat(secrets.put(f.auth("reader"), "s/g1", value("by reader"), tresor.groupCheck()).version())
                    .isEqualTo(2);
        }

        @Test
        void deletingAClientMakesItsIdentityUnauthenticated() {
            assertThat(f.auth("reader").name()).isEqualTo("reader");
            tresor.deleteClient(f.root(), "reader");
            assertThatThrownBy(() -> f.auth("reader")).isInstanceOf(TresorException.class)
                    .extracting(e -> ((TresorException) e).failure()).isEqualTo(Failure.UNAUTHENTICATED);
            assertThat(tresor.listClients(f.root())).extracting(ClientView::name).doesNotContain("reader");
            assertThat(tresor.getGroup(f.root(), "g1").clients())
                    .containsExactly(new GroupView.Member("writer", "write"));
            assertThat(outcome(() -> tresor.deleteClient(f.root(), "reader"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> tresor.deleteClient(f.root(), "root"))).isEqualTo(Failure.CONFLICT);
            // The name and identity can be used again; the new client starts with no groups.
            tresor.createClient(f.root(), "reader", id("reader"), false);
            Caller again = f.auth("reader");
            assertThat(again.groups()).isEmpty();
            assertThat(outcome(() -> f.read(again, "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void deletingAGroupTakesItsSecretsAwayFromItsMembers() {
            tresor.deleteGroup(f.root(), "g1");
            Caller reader = f.auth("reader");
            Caller writer = f.auth("writer");
            assertThat(reader.groups()).isEmpty();
            assertThat(writer.groups()).isEmpty();
            for (String s : List.of("s/g1", "s/both")) {
                assertThat(outcome(() -> f.read(reader, s))).isEqualTo(Failure.FORBIDDEN);
                assertThat(outcome(() -> secrets.put(writer, s, value("x"), tresor.groupCheck())))
                        .isEqualTo(Failure.FORBIDDEN);
            }
            assertThat(secrets.meta(f.root(), "s/g1").groups()).isEmpty();
            assertThat(secrets.meta(f.root(), "s/both").groups()).containsExactly("g2");
            assertThat(f.read(f.auth("other"), "s/both")).isEqualTo("value-of-s/both");
            // A new group with the old name does not inherit the old grants.
            f.group("g1");
            tresor.addMember(f.root(), "g1", "reader", Role.READ);
            assertThat(outcome(() -> f.read(f.auth("reader"), "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.list(f.auth("reader"), null, null, 100)).isEmpty();
            assertThat(outcome(() -> tresor.deleteGroup(f.root(), "nope"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> tresor.grant(f.root(), "nope", "s/g1"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void theWriteRoleAddsVersionsWithCasAndMovesLabelsButNothingMore() {
            Caller writer = f.auth("writer");
            // cas = the version the writer expects to be current.
            assertThat(outcome(() -> secrets.put(writer, "s/g1", new PutSecret(TresorFixture.bytes("v2"), null, null,
                    null, null, 5, null), tresor.groupCheck()))).isEqualTo(Failure.CONFLICT);
            assertThat(outcome(() -> secrets.put(writer, "s/g1", new PutSecret(TresorFixture.bytes("v2"), null, null,
                    null, null, 0, null), tresor.groupCheck()))).isEqualTo(Failure.CONFLICT);
            assertThat(secrets.put(writer, "s/g1", new PutSecret(TresorFixture.bytes("v2"), null, null, null, null, 1,
                    null), tresor.groupCheck()).version()).isEqualTo(2);
            assertThat(outcome(() -> secrets.put(writer, "s/g1", new PutSecret(TresorFixture.bytes("v3"), null, null,
                    null, null, 1, null), tresor.groupCheck()))).isEqualTo(Failure.CONFLICT);
            assertThat(f.read(writer, "s/g1")).isEqualTo("v2");
            // Labels: wrong cas is a conflict; right cas moves it.
            assertThat(outcome(() -> secrets.label(writer, "s/g1", "current", 1, 1))).isEqualTo(Failure.CONFLICT);
            assertThat(secrets.label(writer, "s/g1", "current", 1, 2).currentVersion()).isEqualTo(1);
            assertThat(f.read(f.auth("reader"), "s/g1")).isEqualTo("value-of-s/g1");
            // Not: set groups, create secrets, delete, restore, grant, or write where it only reads.
            assertThat(outcome(() -> secrets.put(writer, "s/g1", new PutSecret(TresorFixture.bytes("x"), null, null,
                    List.of("g1"), null, null, null), tresor.groupCheck()))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.put(writer, "s/new", value("x"), tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.put(writer, "s/new", new PutSecret(TresorFixture.bytes("x"), null, null,
                    null, null, 0, null), tresor.groupCheck()))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.delete(writer, "s/g1", false))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.restore(writer, "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> tresor.grant(writer, "g1", "s/g2"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.put(writer, "s/g2", value("x"), tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.label(writer, "s/g2", "current", 1, null))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.put(f.auth("reader"), "s/g1", value("x"), tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.meta(f.root(), "s/g1").groups()).containsExactly("g1");
            assertThat(secrets.meta(f.root(), "s/g1").latestVersion()).isEqualTo(2);
            assertThat(outcome(() -> secrets.meta(f.root(), "s/new"))).isEqualTo(Failure.NOT_FOUND);
        }

        @Test
        void deletingAGroupThatWasSetThroughPutRemovesItFromTheSecret() {
            var root = f.root();
            // g3 gets s/g1 through PUT {groups: [g1, g3]} rather than through a grant.
            secrets.put(root, "s/g1", new PutSecret(TresorFixture.bytes("second"), null, null, List.of("g1", "g3"), null,
                    null, null), tresor.groupCheck());
            assertThat(secrets.meta(root, "s/g1").groups()).containsExactly("g1", "g3");
            tresor.deleteGroup(root, "g3");
            // A new group that happens to reuse the name must not inherit the deleted group's access.
            f.group("g3");
            tresor.addMember(root, "g3", "other", Role.READ);
            Caller other = f.auth("other");
            assertThat(outcome(() -> f.read(other, "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.meta(root, "s/g1").groups()).containsExactly("g1");
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void anAdminSettingGroupsRebindsEveryVersion() {
            var root = f.root();
            f.put(root, "s/g1", "second");
            secrets.put(root, "s/g1", new PutSecret(TresorFixture.bytes("third"), null, null, List.of("g2"), null, null,
                    null), tresor.groupCheck());
            assertThat(outcome(() -> f.read(f.auth("reader"), "s/g1"))).isEqualTo(Failure.FORBIDDEN);
            Caller other = f.auth("other");
            assertThat(f.read(other, "s/g1")).isEqualTo("third");
            assertThat(f.read(other, "s/g1", new VersionSelector(1, null))).isEqualTo("value-of-s/g1");
            assertThat(f.read(other, "s/g1", new VersionSelector(2, null))).isEqualTo("second");
            // The grant index follows the group list, as it does for grant/revoke: other lists s/g1.
            assertThat(secrets.list(other, null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("s/both", "s/g1", "s/g2");
            assertThat(tresor.getGroup(root, "g2").secrets()).containsExactly("s/both", "s/g1", "s/g2");
            assertThat(tresor.getGroup(root, "g1").secrets()).containsExactly("s/both");
            // Groups must exist.
            assertThat(outcome(() -> secrets.put(root, "s/g1", new PutSecret(TresorFixture.bytes("x"), null, null,
                    List.of("nope"), null, null, null), tresor.groupCheck()))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> secrets.put(root, "s/brand-new", new PutSecret(TresorFixture.bytes("x"), null,
                    null, List.of("g1", "nope"), null, null, null), tresor.groupCheck()))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> secrets.meta(root, "s/brand-new"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(f.monitor.violations()).isEmpty();
        }
    }
}
