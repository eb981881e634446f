package dev.tresor.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.crypto.Keyring;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * {@code key rotate --keyring} in the core, on SQLite and PostgreSQL: a fresh primary, every data
 * key re-wrapped in batches while another node reads and writes, the older keys retired; a data key
 * that does not unwrap keeps its key in the keyring; a run killed with SIGKILL is finished by the
 * next one.
 */
class KeyringRotationTest {

    @Nested
    class SQLite extends Cases {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }

        @Test
        void aRotationKilledBetweenBatchesIsFinishedByTheNextRun() throws Exception {
            KeyringRotation rotation = f.tresor.keyringRotation();
            rotation.begin();
            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), KeyringRotationChild.class.getName(),
                    f.db.config().sqlitePath().toString(), f.dir.resolve("kek.json").toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertThat(out.readLine()).isEqualTo("rewrapped 20");
                child.destroyForcibly(); // SIGKILL between two committed batches
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }
            Tresor restarted = f.reopen();
            KeyringRotation again = restarted.keyringRotation();
            assertThat(again.unfinished()).isTrue();
            assertThat(again.remaining()).isEqualTo(SECRETS * 2 - 20);
            for (int i = 0; i < SECRETS; i++) {
                assertThat(read(restarted, name(i), VersionSelector.current())).isEqualTo(value(i, 2));
            }
            KeyringRotation.Result result = again.finish(7, (done, unreadable) -> { });
            assertThat(result.rewrapped()).isEqualTo(SECRETS * 2 - 20);
            assertThat(result.retired()).isPresent();
            assertThat(again.unfinished()).isFalse();
            assertEveryValueReads(f.reopen());
        }
    }

    @Nested
    class PostgreSQL extends Cases {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    static final int SECRETS = 60;

    static String name(int i) {
        return "app/s" + String.format("%03d", i);
    }

    static String value(int i, int version) {
        return "value-" + i + "-v" + version;
    }

    /** A value read as alice through {@code node} (one server node of several on the store). */
    static String read(Tresor node, String secret, VersionSelector selector) {
        return new String(node.secrets().read(node.authenticate(TresorFixture.id("alice")), secret, selector, false).value(),
                StandardCharsets.UTF_8);
    }

    abstract static class Cases {
        private final TestDatabase.Kind kind;
        TresorFixture f;

        Cases(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            f.group("g1");
            f.client("alice", false, Role.READ, "g1");
            Caller root = f.root();
            for (int i = 0; i < SECRETS; i++) {
                f.put(root, name(i), value(i, 1), "g1");
                f.put(root, name(i), value(i, 2));
            }
            f.monitor.clear();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        void assertEveryValueReads(Tresor tresor) {
            for (int i = 0; i < SECRETS; i++) {
                assertThat(read(tresor, name(i), VersionSelector.current())).isEqualTo(value(i, 2));
                assertThat(read(tresor, name(i), new VersionSelector(1, null))).isEqualTo(value(i, 1));
            }
        }

        List<Integer> keyIdsOfDataKeys() {
            List<Integer> ids = new ArrayList<>();
            for (Map<String, Object> row : f.db.rows("secret_versions", null)) {
                ids.add(Keyring.keyIdOf((byte[]) row.get("wrapped_key")));
            }
            return ids;
        }

        @Test
        void everyDataKeyMovesToTheNewPrimaryAndTheOldKeyIsRetiredWhileAnotherNodeWorks() throws Exception {
            Tresor otherNode = f.reopen();
            Keyring before = f.tresor.keyring();
            KeyringRotation rotation = f.tresor.keyringRotation();
            KeyringChanges.Change begun = rotation.begin();
            Keyring during = begun.after();
            assertThat(during.size()).isEqualTo(2);
            assertThat(during.keyId()).isNotEqualTo(before.keyId());
            assertThat(rotation.remaining()).isEqualTo(SECRETS * 2);

            // The other node, still holding the old keyring, writes: its write uses the new primary.
            otherNode.secrets().put(otherNode.authenticate(TresorFixture.id(TresorFixture.ROOT)), "app/late",
                    new PutSecret(TresorFixture.bytes("late"), null, null, List.of("g1"), null, null, null),
                    otherNode.groupCheck());
            int newId = Keyring.keyIdOf(during.primaryPrefix());
            assertThat(Keyring.keyIdOf((byte[]) f.db.row("secret_versions", "secret_name = 'app/late'").get("wrapped_key")))
                    .isEqualTo(newId);

            List<Long> progress = new ArrayList<>();
            KeyringRotation.Result result = rotation.finish(7, (done, unreadable) -> {
                progress.add(done);
                // Reads by the other node go on between batches, over keys of both generations.
                assertThat(read(otherNode, name(0), VersionSelector.current())).isEqualTo(value(0, 2));
            });
            assertThat(result.rewrapped()).isEqualTo(SECRETS * 2);
            assertThat(result.unreadable()).isZero();
            assertThat(progress).hasSize((SECRETS + 6) / 7 + (SECRETS % 7 == 0 ? 1 : 0)).isSorted();
            assertThat(result.retired()).isPresent();
            Keyring after = result.retired().get().after();
            assertThat(after.size()).isEqualTo(1);
            assertThat(after.keyId()).isEqualTo(during.keyId());
            assertThat(after.version()).isGreaterThan(during.version());
            assertThat(keyIdsOfDataKeys()).containsOnly(newId);
            assertThat(rotation.unfinished()).isFalse();
            assertThat(f.monitor.violations()).isEmpty();

            assertEveryValueReads(f.tresor);
            assertEveryValueReads(otherNode);
            assertEveryValueReads(f.reopen());
            // Nothing left to do: running again changes nothing.
            KeyringRotation.Result idle = rotation.finish(7, (done, unreadable) -> { });
            assertThat(idle.rewrapped()).isZero();
            assertThat(idle.retired()).isEmpty();
        }

        @Test
        void aDataKeyThatDoesNotUnwrapKeepsItsKeyInTheKeyringAndTheRestMoves() throws Exception {
            KeyringRotation rotation = f.tresor.keyringRotation();
            rotation.begin();
            Map<String, Object> row = f.db.row("secret_versions", "secret_name = ? AND version = 1", name(3));
            byte[] wrapped = ((byte[]) row.get("wrapped_key")).clone();
            wrapped[wrapped.length - 1] ^= 1; // after the key id prefix: still names the old key
            f.db.sql("UPDATE secret_versions SET wrapped_key = ? WHERE secret_name = ? AND version = 1", wrapped, name(3));

            long[] left = {-1};
            KeyringRotation.Result result = rotation.finish(10, (done, unreadable) -> { });
            assertThat(result.rewrapped()).isEqualTo(SECRETS * 2 - 1);
            assertThat(result.unreadable()).isEqualTo(1);
            assertThat(result.stillUnderOlderKeys()).isEqualTo(1);
            assertThat(result.retired()).as("the old key still wraps a data key").isEmpty();
            assertThat(rotation.unfinished()).isTrue();
            assertThat(f.monitor.subjects()).contains("secret " + name(3) + " v1");
            assertThat(f.read(f.auth("alice"), name(3))).isEqualTo(value(3, 2));
            assertThat(f.read(f.auth("alice"), name(4))).isEqualTo(value(4, 2));
            left[0] = rotation.remaining();
            assertThat(left[0]).isEqualTo(1);
        }
    }
}
