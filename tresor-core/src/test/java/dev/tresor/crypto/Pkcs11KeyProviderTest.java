package dev.tresor.crypto;

import dev.tresor.testkit.SoftHsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.PutSecret;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pkcs11 key provider against a real SoftHSM2 token through SunPKCS11: a non-extractable
 * AES-256 token key wraps with AES-GCM; a Tresor store on SQLite and PostgreSQL runs on it; a wrong
 * PIN, a missing library, a wrong slot, a missing key and another token key each refuse clearly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Pkcs11KeyProviderTest {

    private static final String PIN = SoftHsm.SHARED_PIN;
    private static final Map<String, String> NO_ENV = Map.of();

    private SoftHsm hsm;

    private Pkcs11KeyProvider.Settings settings(String keyLabel) {
        return new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null, keyLabel);
    }
    @TempDir
    Path dir;

    @BeforeAll
    void startToken() throws Exception {
        hsm = SoftHsm.shared(); // one token per JVM: Pkcs11TamperTest and Pkcs11StoreContractTest use it too
    }

    private Pkcs11KeyProvider.Pin pin() throws Exception {
        Path pinFile = dir.resolve("pin");
        if (!Files.exists(pinFile)) {
            Files.writeString(pinFile, PIN + "\n");
        }
        return Pkcs11KeyProvider.Pin.fromFile(pinFile);
    }

    private Pkcs11KeyProvider newKey(String label) throws Exception {
        Pkcs11KeyProvider.generateKey(settings(label), pin(), NO_ENV);
        return Pkcs11KeyProvider.open(settings(label), pin(), NO_ENV);
    }

    @Test
    void wrapsWithAesGcmUnderANonExtractableTokenKey() throws Exception {
        Pkcs11KeyProvider kek = newKey("kek-roundtrip");
        assertThat(kek.keyId()).isEqualTo("pkcs11:kek-roundtrip");
        byte[] secret = "a data key, 32 bytes long ......".getBytes(StandardCharsets.UTF_8);
        byte[] aad = "context".getBytes(StandardCharsets.UTF_8);
        byte[] one = kek.kek().encrypt(secret, aad);
        byte[] two = kek.kek().encrypt(secret, aad);
        assertThat(one).isNotEqualTo(two); // a fresh nonce every time
        assertThat(kek.kek().decrypt(one, aad)).isEqualTo(secret);
        assertThatThrownBy(() -> kek.kek().decrypt(one, "other".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(GeneralSecurityException.class);
        byte[] flipped = one.clone();
        flipped[flipped.length - 1] ^= 1;
        assertThatThrownBy(() -> kek.kek().decrypt(flipped, aad)).isInstanceOf(GeneralSecurityException.class);

        // Reopened (a restart), the same token key opens what it wrapped.
        Pkcs11KeyProvider again = Pkcs11KeyProvider.open(settings("kek-roundtrip"), pin(), NO_ENV);
        assertThat(again.kek().decrypt(one, aad)).isEqualTo(secret);
        // A KEK is never silently replaced.
        assertThatThrownBy(() -> Pkcs11KeyProvider.generateKey(settings("kek-roundtrip"), pin(), NO_ENV))
                .hasMessageContaining("already holds a key labelled 'kek-roundtrip'");
    }

    @Test
    void aTresorStoreRunsOnTheHsmKeyOnSqliteAndPostgresql() throws Exception {
        Pkcs11KeyProvider kek = newKey("kek-store");
        for (TestDatabase.Kind kind : TestDatabase.Kind.values()) {
            try (TestDatabase db = kind.create()) {
                try (Store store = db.open()) {
                    Tresor tresor = Tresor.open(store, kek, IntegrityMonitor.NONE, Clock.systemUTC());
                    tresor.bootstrapAdmin("root", "spiffe://tresor.local/root");
                    var root = tresor.authenticate("spiffe://tresor.local/root");
                    tresor.createGroup(root, "g1", "readers");
                    tresor.addMember(root, "g1", "root", dev.tresor.model.Role.WRITE);
                    tresor.secrets().put(tresor.authenticate("spiffe://tresor.local/root"), "app/db",
                            new PutSecret("PW".getBytes(StandardCharsets.UTF_8), null, null, List.of("g1"), null, null,
                                    null), tresor.groupCheck());
                }
                assertThat(db.row("keyring", "id = 1").get("kek_id")).isEqualTo("pkcs11:kek-store");
                // A restart with the PIN from an environment variable this time.
                Pkcs11KeyProvider restarted = Pkcs11KeyProvider.open(settings("kek-store"),
                        Pkcs11KeyProvider.Pin.fromEnvironment("TRESOR_HSM_PIN"), Map.of("TRESOR_HSM_PIN", PIN));
                try (Store store = db.open()) {
                    Tresor tresor = Tresor.open(store, restarted, IntegrityMonitor.NONE, Clock.systemUTC());
                    assertThat(new String(tresor.secrets().read(tresor.authenticate("spiffe://tresor.local/root"),
                            "app/db", VersionSelector.current(), false).value(), StandardCharsets.UTF_8)).isEqualTo("PW");
                }
                // Another key on the same token is another KEK: the store refuses to start and says so.
                Pkcs11KeyProvider other = newKey("kek-other-" + kind);
                try (Store store = db.open()) {
                    assertThatThrownBy(() -> Tresor.open(store, other, IntegrityMonitor.NONE, Clock.systemUTC()))
                            .isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("cannot unwrap this store's keyring")
                            .hasMessageContaining("pkcs11:kek-other-" + kind)
                            .hasMessageContaining("wrapped by pkcs11:kek-store");
                }
            }
        }
    }

    @Test
    void aWrongPinRefusesAtStartAndNamesWhereThePinCameFrom() throws Exception {
        newKey("kek-pin");
        Path wrong = dir.resolve("wrong-pin");
        Files.writeString(wrong, "not-the-pin\n");
        // A fresh process, as a server start is: PKCS#11 logins last as long as the process.
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Pkcs11OpenChild.class.getName(), hsm.library().toString(), Long.toString(hsm.slot()), "kek-pin",
                "file:" + wrong, "env:TRESOR_HSM_PIN=also-wrong", "env:TRESOR_HSM_PIN", "file:" + dir.resolve("pin"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(child.waitFor()).isZero();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).startsWith("refused").contains("refused the PIN").contains(wrong.toString())
                .contains("keyProvider.pinFile").doesNotContain("not-the-pin");
        assertThat(lines.get(1)).startsWith("refused").contains("refused the PIN")
                .contains("TRESOR_HSM_PIN (keyProvider.pinEnv)").doesNotContain("also-wrong");
        assertThat(lines.get(2)).startsWith("refused").contains("TRESOR_HSM_PIN (keyProvider.pinEnv)").contains("not set");
        // The right PIN still works afterwards: nothing was locked or lost.
        assertThat(lines.get(3)).isEqualTo("opened pkcs11:kek-pin");
    }

    @Test
    void aMissingHsmSlotOrKeyRefusesNamingTheFix() throws Exception {
        assertThatThrownBy(() -> Pkcs11KeyProvider.open(new Pkcs11KeyProvider.Settings(
                dir.resolve("no-such-libsofthsm2.so"), hsm.slot(), null, "k"), pin(), NO_ENV))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not exist")
                .hasMessageContaining("apt-get install softhsm2")
                .hasMessageContaining("keyProvider.library");
        assertThatThrownBy(() -> Pkcs11KeyProvider.open(new Pkcs11KeyProvider.Settings(
                hsm.library(), 424242L, null, "k"), pin(), NO_ENV))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("slot 424242");
        assertThatThrownBy(() -> Pkcs11KeyProvider.open(settings("no-such-key"), pin(), NO_ENV))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("holds no AES key labelled 'no-such-key'")
                .hasMessageContaining("keyProvider.keyLabel");
    }

    @Test
    void thePinIsNeverInTheSettings() {
        // The settings record has no PIN field at all; the PIN source must be exactly one of file or variable.
        assertThat(List.of(Pkcs11KeyProvider.Settings.class.getRecordComponents()))
                .extracting(c -> c.getName()).doesNotContain("pin");
        assertThatThrownBy(() -> new Pkcs11KeyProvider.Pin(null, null)).isInstanceOf(IllegalArgumentException.class);
    }
}
