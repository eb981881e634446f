package dev.tresor.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local KEK sealed by a passphrase (Argon2id, RFC 9106 parameters stored beside the sealed keyset). */
class SealedLocalKeyProviderTest {

    /** Cheap parameters for the tests that are not about the cost itself. */
    private static final SealedKeyFile.Argon2id CHEAP = new SealedKeyFile.Argon2id(1024, 1, 1);

    @TempDir
    Path dir;

    @Test
    void aSealedKeyFileOpensWithItsPassphraseOnlyAndHoldsNoKeyInClear() throws Exception {
        Path file = dir.resolve("kek.json");
        LocalKeyProvider created = LocalKeyProvider.createSealed(file, "correct horse".toCharArray(), CHEAP);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String content = Files.readString(file);
        assertThat(content).contains("\"argon2id\"").contains("\"salt\"").doesNotContain("keyData").doesNotContain("value");
        byte[] aad = "ctx".getBytes(StandardCharsets.UTF_8);
        byte[] wrapped = created.kek().encrypt("data key".getBytes(StandardCharsets.UTF_8), aad);

        LocalKeyProvider loaded = LocalKeyProvider.load(file, "correct horse".toCharArray());
        assertThat(loaded.keyId()).isEqualTo(created.keyId());
        assertThat(loaded.kek().decrypt(wrapped, aad)).isEqualTo("data key".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> LocalKeyProvider.load(file, "wrong horse".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the passphrase does not open key file " + file)
                .hasMessageNotContaining("wrong horse");
        assertThatThrownBy(() -> LocalKeyProvider.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sealed by a passphrase");
        assertThatThrownBy(() -> LocalKeyProvider.load(file, new char[0])).hasMessageContaining("passphrase is empty");
    }

    @Test
    void theDefaultCostIsRfc9106sSecondRecommendationStoredBesideTheKey() throws Exception {
        Path file = dir.resolve("kek.json");
        LocalKeyProvider.createSealed(file, "pass phrase".toCharArray());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(file));
        assertThat(json.get("memoryKiB").asInt()).isEqualTo(65536);
        assertThat(json.get("iterations").asInt()).isEqualTo(3);
        assertThat(json.get("parallelism").asInt()).isEqualTo(4);
        assertThat(json.get("argon2Version").asInt()).isEqualTo(19);
        assertThat(LocalKeyProvider.load(file, "pass phrase".toCharArray()).keyId()).startsWith("local:");
    }

    @Test
    void editedParametersFailAndAbsurdOnesAreRefusedBeforeDeriving() throws Exception {
        Path file = dir.resolve("kek.json");
        LocalKeyProvider.createSealed(file, "pw".toCharArray(), CHEAP);
        String content = Files.readString(file);
        Files.writeString(file, content.replace("\"memoryKiB\" : 1024", "\"memoryKiB\" : 2048"));
        assertThatThrownBy(() -> LocalKeyProvider.load(file, "pw".toCharArray()))
                .hasMessageContaining("the passphrase does not open");
        Files.writeString(file, content.replace("\"memoryKiB\" : 1024", "\"memoryKiB\" : 2000000000"));
        assertThatThrownBy(() -> LocalKeyProvider.load(file, "pw".toCharArray()))
                .hasMessageContaining("the passphrase does not open")
                .cause().hasMessageContaining("out of range");
        Files.writeString(file, content);
        assertThat(LocalKeyProvider.load(file, "pw".toCharArray())).isNotNull();
    }

    @Test
    void aTresorStoreRunsOnASealedKek() throws Exception {
        Path file = dir.resolve("kek.json");
        LocalKeyProvider kek = LocalKeyProvider.createSealed(file, "pw".toCharArray(), CHEAP);
        try (TestDatabase db = TestDatabase.sqlite()) {
            try (Store store = db.open()) {
                Tresor.open(store, kek, IntegrityMonitor.NONE, Clock.systemUTC());
            }
            try (Store store = db.open()) {
                assertThat(Tresor.open(store, LocalKeyProvider.load(file, "pw".toCharArray()), IntegrityMonitor.NONE,
                        Clock.systemUTC()).keyring().version()).isEqualTo(1);
            }
        }
    }
}
