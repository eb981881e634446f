package dev.tresor.secrets;

import static dev.tresor.access.TresorFixture.bytes;
import static dev.tresor.access.TresorFixture.outcome;
import static dev.tresor.access.TresorFixture.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.model.Failure;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.SecretValue;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Versions, labels, expiry, soft delete, restore and destroy, as {@link SecretService} documents
 * them, on both stores. {@code root} is admin; {@code app} reads g1; {@code rotator} writes g1.
 */
class SecretLifecycleTest {

    @Nested
    class SQLite extends Lifecycle {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Lifecycle {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Lifecycle {
        private final TestDatabase.Kind kind;
        TresorFixture f;
        SecretService secrets;
        Caller root;

        Lifecycle(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            secrets = f.tresor.secrets();
            f.group("g1");
            f.client("app", false, Role.READ, "g1");
            f.client("rotator", false, Role.WRITE, "g1");
            root = f.root();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        private Caller app() {
            return f.auth("app");
        }

        private Map<String, Integer> labels(String name) {
            return secrets.meta(root, name).labels();
        }

        @Test
        void valuesRoundTripExactlyUpToTheSizeLimit() {
            byte[] binary = new byte[256];
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) i;
            }
            f.put(root, "bin", new PutSecret(binary, "all byte values", null, List.of("g1"), Map.of("owner", "team-a"),
                    0, null));
            SecretValue v = secrets.read(app(), "bin", VersionSelector.current(), false);
            assertThat(v.value()).isEqualTo(binary);
            assertThat(v.version()).isEqualTo(1);
            assertThat(v.labels()).containsExactly("current");
            assertThat(v.createdAt()).isEqualTo(f.clock.instant());
            assertThat(v.expiresAt()).isNull();

            byte[] max = new byte[SecretService.MAX_VALUE_BYTES];
            new java.util.Random(1).nextBytes(max);
            f.put(root, "bin", new PutSecret(max, null, null, null, null, null, null));
            assertThat(secrets.read(app(), "bin", VersionSelector.current(), false).value()).isEqualTo(max);
            assertThat(outcome(() -> f.put(root, "bin", new PutSecret(new byte[SecretService.MAX_VALUE_BYTES + 1], null,
                    null, null, null, null, null)))).isEqualTo(Failure.TOO_LARGE);
            assertThat(f.put(root, "empty", new PutSecret(new byte[0], null, null, List.of("g1"), null, null, null))
                    .version()).isEqualTo(1);
            assertThat(secrets.read(app(), "empty", VersionSelector.current(), false).value()).isEmpty();
            assertThat(outcome(() -> f.put(root, "bin", new PutSecret(null, null, null, null, null, null, null))))
                    .isEqualTo(Failure.BAD_REQUEST);

            SecretMeta meta = secrets.meta(app(), "bin");
            assertThat(meta.description()).isEqualTo("all byte values");
            assertThat(meta.latestVersion()).isEqualTo(2);
            assertThat(meta.currentVersion()).isEqualTo(2);
            assertThat(secrets.versions(app(), "bin").getFirst().metadata()).containsExactlyEntriesOf(Map.of("owner", "team-a"));
        }

        @Test
        void badNamesAndRequestsAreRefusedWithoutPartialWrites() {
            for (String bad : List.of("", "/a", "a/", "a//b", "a/../b", "./a", "a b", "a/versions", "ä", "a\u0000b")) {
                assertThat(outcome(() -> f.put(root, bad, "x", "g1"))).as(bad).isEqualTo(Failure.BAD_REQUEST);
            }
            assertThat(outcome(() -> f.put(root, "x".repeat(256), "x", "g1"))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("x"), null, f.clock.instant(), null, null, null,
                    null)))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("x"), null, null, null, null, null,
                    List.of("current", "current"))))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("x"), null, null, null, null, null,
                    List.of("bad label"))))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("x"), "d".repeat(1025), null, null, null, null,
                    null)))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(secrets.list(root, null, null, 100)).isEmpty();
        }

        @Test
        void casOnCreate() {
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("x"), null, null, null, null, 1, null))))
                    .isEqualTo(Failure.CONFLICT);
            assertThat(f.put(root, "s", new PutSecret(bytes("x"), null, null, List.of("g1"), null, 0, null)).version())
                    .isEqualTo(1);
            assertThat(outcome(() -> f.put(root, "s", new PutSecret(bytes("y"), null, null, null, null, 0, null))))
                    .isEqualTo(Failure.CONFLICT);
            assertThat(f.read(app(), "s")).isEqualTo("x");
        }

        @Test
        void labelsMoveAsDocumented() {
            f.put(root, "db", "one", "g1");
            assertThat(labels("db")).containsExactlyEntriesOf(Map.of("current", 1));
            f.put(root, "db", "two");
            assertThat(labels("db")).isEqualTo(Map.of("current", 2, "previous", 1));

            // Rotation: the new version is staged as pending; current stays until it is moved.
            Caller rotator = f.auth("rotator");
            VersionMeta staged = secrets.put(rotator, "db", new PutSecret(bytes("three"), null, null, null, null, 2,
                    List.of("pending")), f.tresor.groupCheck());
            assertThat(staged.labels()).containsExactly("pending");
            assertThat(labels("db")).isEqualTo(Map.of("current", 2, "previous", 1, "pending", 3));
            assertThat(f.read(app(), "db")).isEqualTo("two");
            assertThat(f.read(app(), "db", new VersionSelector(null, "pending"))).isEqualTo("three");

            // Promoting pending: previous = the old current; pending is cleared because it is now current.
            secrets.label(rotator, "db", "current", 3, 2);
            assertThat(labels("db")).isEqualTo(Map.of("current", 3, "previous", 2));
            assertThat(f.read(app(), "db")).isEqualTo("three");
            assertThat(f.read(app(), "db", new VersionSelector(null, "previous"))).isEqualTo("two");

            // Rolling back to an older version is a label move too.
            secrets.label(root, "db", "current", 1, null);
            assertThat(labels("db")).isEqualTo(Map.of("current", 1, "previous", 3));
            assertThat(f.read(app(), "db")).isEqualTo("one");
            // Moving current onto itself changes nothing.
            secrets.label(root, "db", "current", 1, 1);
            assertThat(labels("db")).isEqualTo(Map.of("current", 1, "previous", 3));
            // Custom labels, and a pending that is not the new current stays.
            secrets.label(rotator, "db", "blue", 2, null);
            secrets.label(rotator, "db", "pending", 3, null);
            secrets.label(rotator, "db", "current", 2, null);
            assertThat(labels("db")).isEqualTo(Map.of("current", 2, "previous", 1, "pending", 3, "blue", 2));
            assertThat(secrets.versions(app(), "db")).extracting(VersionMeta::version, VersionMeta::labels)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(1, List.of("previous")),
                            org.assertj.core.groups.Tuple.tuple(2, List.of("blue", "current")),
                            org.assertj.core.groups.Tuple.tuple(3, List.of("pending")));

            // A put with labels [current, pending] ... an explicit version and missing versions.
            assertThat(outcome(() -> secrets.label(root, "db", "current", 4, null))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> secrets.label(root, "db", "current", 0, null))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> secrets.label(root, "db", "bad label", 1, null))).isEqualTo(Failure.BAD_REQUEST);
            assertThat(outcome(() -> f.read(app(), "db", new VersionSelector(4, null)))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> f.read(app(), "db", new VersionSelector(null, "green")))).isEqualTo(Failure.NOT_FOUND);
            assertThat(f.read(app(), "db", new VersionSelector(1, null))).isEqualTo("one");
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void expiredVersionsAreGoneUnlessAllowExpired() {
            Instant expires = f.clock.instant().plus(Duration.ofHours(1));
            f.put(root, "token", new PutSecret(bytes("short-lived"), null, expires, List.of("g1"), null, null, null));
            assertThat(f.read(app(), "token")).isEqualTo("short-lived");
            assertThat(secrets.versions(app(), "token").getFirst().expired()).isFalse();

            f.clock.advance(Duration.ofHours(1));
            // expiresAt is the first instant at which the version is expired.
            assertThat(outcome(() -> f.read(app(), "token"))).isEqualTo(Failure.GONE);
            SecretValue v = secrets.read(app(), "token", VersionSelector.current(), true);
            assertThat(new String(v.value(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("short-lived");
            assertThat(v.expiresAt()).isEqualTo(expires);
            VersionMeta meta = secrets.versions(app(), "token").getFirst();
            assertThat(meta.expired()).isTrue();
            assertThat(meta.expiresAt()).isEqualTo(expires);

            // A fresh version replaces it; the old one stays gone by number.
            f.put(root, "token", "renewed");
            assertThat(f.read(app(), "token")).isEqualTo("renewed");
            assertThat(outcome(() -> f.read(app(), "token", new VersionSelector(1, null)))).isEqualTo(Failure.GONE);
            assertThat(outcome(() -> f.read(app(), "token", new VersionSelector(null, "previous"))))
                    .isEqualTo(Failure.GONE);
            // Expired versions stay refused to those without access, with the same answer as before.
            f.client("stranger", false, Role.READ);
            assertThat(outcome(() -> secrets.read(f.auth("stranger"), "token", new VersionSelector(1, null), true)))
                    .isEqualTo(Failure.FORBIDDEN);
        }

        @Test
        void softDeleteHidesAndRestoreBringsBack() {
            f.put(root, "db", "one", "g1");
            f.put(root, "db", "two");
            SecretMeta deleted = secrets.delete(root, "db", false);
            assertThat(deleted.deletedAt()).isEqualTo(f.clock.instant());
            assertThat(deleted.destroyed()).isFalse();

            Caller app = app();
            assertThat(outcome(() -> f.read(app, "db"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.versions(app, "db"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.meta(app, "db"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(secrets.list(app, null, null, 100)).isEmpty();
            assertThat(outcome(() -> secrets.put(f.auth("rotator"), "db", value("x"), f.tresor.groupCheck())))
                    .isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> secrets.label(f.auth("rotator"), "db", "current", 1, null)))
                    .isEqualTo(Failure.FORBIDDEN);
            // Admins see it as deleted, cannot write it, and cannot delete it twice.
            assertThat(outcome(() -> f.read(root, "db"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(secrets.list(root, null, null, 100)).extracting(SecretMeta::name).containsExactly("db");
            assertThat(secrets.meta(root, "db").deletedAt()).isNotNull();
            assertThat(outcome(() -> f.put(root, "db", "three"))).isEqualTo(Failure.CONFLICT);
            assertThat(outcome(() -> secrets.label(root, "db", "current", 1, null))).isEqualTo(Failure.CONFLICT);
            assertThat(outcome(() -> secrets.delete(root, "db", false))).isEqualTo(Failure.CONFLICT);

            f.clock.advance(Duration.ofMinutes(5));
            SecretMeta restored = secrets.restore(root, "db");
            assertThat(restored.deletedAt()).isNull();
            assertThat(restored.labels()).isEqualTo(Map.of("current", 2, "previous", 1));
            assertThat(f.read(app(), "db")).isEqualTo("two");
            assertThat(f.read(app(), "db", new VersionSelector(1, null))).isEqualTo("one");
            assertThat(outcome(() -> secrets.restore(root, "db"))).isEqualTo(Failure.CONFLICT);
            assertThat(f.monitor.violations()).isEmpty();
        }

        @Test
        void destroyErasesEveryValueAndCannotBeRestored() {
            f.put(root, "db", "one", "g1");
            f.put(root, "db", "two");
            SecretMeta destroyed = secrets.delete(root, "db", true);
            assertThat(destroyed.destroyed()).isTrue();
            assertThat(destroyed.deletedAt()).isNotNull();
            assertThat(destroyed.labels()).isEmpty();

            // The data keys and ciphertexts are gone from the database itself.
            List<Map<String, Object>> rows = f.db.rows("secret_versions", "secret_name = ?", "db");
            assertThat(rows).hasSize(2);
            for (Map<String, Object> row : rows) {
                assertThat(row.get("wrapped_key")).isNull();
                assertThat(row.get("ciphertext")).isNull();
            }
            assertThat(secrets.versions(root, "db")).allMatch(VersionMeta::destroyed).hasSize(2);
            assertThat(outcome(() -> secrets.restore(root, "db"))).isEqualTo(Failure.CONFLICT);
            assertThat(outcome(() -> f.read(app(), "db"))).isEqualTo(Failure.FORBIDDEN);
            assertThat(outcome(() -> f.read(root, "db"))).isEqualTo(Failure.NOT_FOUND);
            assertThat(outcome(() -> f.put(root, "db", "three"))).isEqualTo(Failure.CONFLICT);
            // Destroying again, or a soft-deleted secret, is allowed and idempotent.
            assertThat(secrets.delete(root, "db", true).destroyed()).isTrue();
            f.put(root, "other", "x", "g1");
            secrets.delete(root, "other", false);
            assertThat(secrets.delete(root, "other", true).destroyed()).isTrue();
            assertThat(f.db.rows("secret_versions", "secret_name = ? AND wrapped_key IS NOT NULL", "other")).isEmpty();
            assertThat(outcome(() -> secrets.delete(root, "missing", true))).isEqualTo(Failure.NOT_FOUND);
            assertThat(f.monitor.violations()).isEmpty();
        }

        /**
         * Paging contract: a page holds at most {@code limit} entries and the next page starts after
         * the last name seen. An empty page must therefore mean "no more": rows the caller may not see
         * (here: soft-deleted secrets, which keep their grant rows) must not use up a page.
         */
        @Test
        void pagingDoesNotStopAtSecretsTheCallerCannotSee() {
            for (String n : List.of("s1", "s2", "s3", "s4", "s5")) {
                f.put(root, n, "v-" + n, "g1");
            }
            for (String n : List.of("s1", "s2", "s3")) {
                secrets.delete(root, n, false);
            }
            List<String> seen = new java.util.ArrayList<>();
            String after = null;
            for (int page = 0; page < 10; page++) {
                List<SecretMeta> got = secrets.list(app(), null, after, 2);
                if (got.isEmpty()) {
                    break;
                }
                got.forEach(m -> seen.add(m.name()));
                after = got.getLast().name();
            }
            assertThat(seen).containsExactly("s4", "s5");
        }

        @Test
        void listingPagesByNameAndPrefix() {
            for (String n : List.of("a", "a/b", "a-b", "a.b", "b", "A")) {
                f.put(root, n, "v-" + n, "g1");
            }
            assertThat(secrets.list(app(), null, null, 100)).extracting(SecretMeta::name)
                    .containsExactly("A", "a", "a-b", "a.b", "a/b", "b");
            assertThat(secrets.list(app(), "a/", null, 100)).extracting(SecretMeta::name).containsExactly("a/b");
            assertThat(secrets.list(app(), "a", "a-b", 2)).extracting(SecretMeta::name).containsExactly("a.b", "a/b");
            assertThat(secrets.list(root, null, "a/b", 100)).extracting(SecretMeta::name).containsExactly("b");
            // Limits are clamped, never unbounded or zero.
            assertThat(secrets.list(app(), null, null, 0)).hasSize(1);
            assertThat(secrets.list(app(), null, null, -5)).hasSize(1);
        }
    }
}
