package dev.tresor.keys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.access.TresorFixture;
import dev.tresor.model.Role;
import dev.tresor.store.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A server process SIGKILLed in the middle of converting a pre-keyring store (some data keys
 * already re-wrapped inside the open transaction) leaves the store exactly as it was; the next
 * start converts it from the beginning and every value reads.
 */
class KeyringCrashTest {

    @Test
    void aConversionKilledHalfWayLeavesTheStoreAsItWasAndTheNextStartFinishesIt() throws Exception {
        try (TresorFixture f = TresorFixture.create(TestDatabase.Kind.SQLITE)) {
            f.group("g1");
            f.client("alice", false, Role.READ, "g1");
            f.put(f.root(), "app/a", "A", "g1");
            f.put(f.root(), "app/b", "B", "g1");
            f.put(f.root(), "app/c", "C", "g1");
            LegacyStores.downgrade(f.db, f.kek);
            List<Map<String, Object>> versions = f.db.rows("secret_versions", null);
            List<Map<String, Object>> keys = f.db.rows("crypto_keys", null);

            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), ConversionChild.class.getName(),
                    f.db.config().sqlitePath().toString(), f.dir.resolve("kek.json").toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                assertThat(out.readLine()).isEqualTo("half-way 2");
                child.destroyForcibly(); // SIGKILL while the conversion's transaction is open
                assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }

            assertThat(f.db.rows("keyring", null)).isEmpty();
            assertThat(f.db.rows("keyring_migrations", null)).isEmpty();
            assertThat(f.db.rows("secret_versions", null)).usingRecursiveComparison().isEqualTo(versions);
            assertThat(f.db.rows("crypto_keys", null)).usingRecursiveComparison().isEqualTo(keys);

            f.tresor = f.reopen();
            assertThat(f.read(f.auth("alice"), "app/a")).isEqualTo("A");
            assertThat(f.read(f.auth("alice"), "app/b")).isEqualTo("B");
            assertThat(f.read(f.auth("alice"), "app/c")).isEqualTo("C");
            assertThat(((Number) f.db.row("keyring_migrations", "1 = 1").get("rewrapped")).longValue()).isEqualTo(3);
        }
    }
}
