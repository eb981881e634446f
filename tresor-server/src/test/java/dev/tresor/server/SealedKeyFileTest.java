package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.Passphrase;
import dev.tresor.server.bootstrap.KeyPassphraseChange;
import dev.tresor.server.config.ConfigException;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local KEK sealed by a passphrase, end to end: {@code tresor key passphrase} seals the key
 * file of an existing server (the KEK and everything it wraps unchanged) and names the source in
 * the config; the server starts from it; an online KEK rotation writes the new key file sealed by
 * the same passphrase; re-sealing under another passphrase retires the old one.
 */
class SealedKeyFileTest {

    @TempDir
    Path dir;

    @TempDir
    Path secrets;

    private Path passphraseFile(String name, String passphrase) throws Exception {
        Path file = secrets.resolve(name);
        Files.writeString(file, passphrase + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static String read(ServerFixture f, IssuedCert app) {
        HttpResponse<String> get = f.call(app, "GET", "/v1/secrets/db/password", null);
        assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
        return get.body();
    }

    @Test
    void aServerRunsOnASealedKeyFileAcrossRestartsKekRotationAndAPassphraseChange() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/secrets/db/password", "{\"value\":\"s3cret\",\"groups\":[\"app\"]}")
                    .statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"read\"}").statusCode())
                    .isEqualTo(200);
            Path config = dir.resolve("tresor.yaml");
            Path keyFile = dir.resolve("kek.json");
            String kekId = LocalKeyProvider.load(keyFile).keyId();

            // Too short a passphrase is refused and changes nothing.
            Path weak = passphraseFile("weak.pass", "short");
            String before = Files.readString(config);
            assertThatThrownBy(() -> KeyPassphraseChange.apply(config, Passphrase.fromFile(weak), Map.of()))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("at least 12");
            assertThat(Files.readString(config)).isEqualTo(before);
            assertThat(LocalKeyProvider.isSealed(keyFile)).isFalse();

            // Sealed while the server runs: it goes on with the KEK it holds.
            Path first = passphraseFile("first.pass", "first passphrase, long enough");
            KeyPassphraseChange.Result sealed = KeyPassphraseChange.apply(config, Passphrase.fromFile(first), Map.of());
            assertThat(sealed.wasSealed()).isFalse();
            assertThat(sealed.keyId()).isEqualTo(kekId);
            assertThat(LocalKeyProvider.isSealed(keyFile)).isTrue();
            assertThat(Files.readString(keyFile)).doesNotContain("first passphrase");
            assertThat(Files.readString(config)).contains("passphraseFile: \"" + first + "\"")
                    .doesNotContain("first passphrase");
            assertThatThrownBy(() -> LocalKeyProvider.load(keyFile)).hasMessageContaining("sealed by a passphrase");
            assertThat(read(f, admin)).contains("s3cret");

            f.stopServer();
            f.startServer();
            assertThat(read(f, admin)).contains("s3cret");

            // An online KEK rotation: the new key file is sealed by the same passphrase.
            HttpResponse<String> rotated = f.call(admin, "POST", "/v1/keys/rotate", "{\"kek\":true}");
            assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
            assertThat(LocalKeyProvider.isSealed(keyFile)).isTrue();
            String rotatedId = LocalKeyProvider.load(keyFile, "first passphrase, long enough".toCharArray()).keyId();
            assertThat(rotatedId).isNotEqualTo(kekId);
            f.stopServer();
            f.startServer();
            assertThat(read(f, admin)).contains("s3cret");

            // Re-sealed under a new passphrase (from the environment this time): the old one no longer opens it.
            KeyPassphraseChange.Result resealed = KeyPassphraseChange.apply(config,
                    Passphrase.fromEnvironment("TRESOR_TEST_KEK_PASS"), Map.of("TRESOR_TEST_KEK_PASS", "second passphrase, long"));
            assertThat(resealed.wasSealed()).isTrue();
            assertThat(resealed.keyId()).isEqualTo(rotatedId);
            assertThat(Files.readString(config)).contains("passphraseEnv: \"TRESOR_TEST_KEK_PASS\"")
                    .doesNotContain("passphraseFile");
            assertThatThrownBy(() -> LocalKeyProvider.load(keyFile, "first passphrase, long enough".toCharArray()))
                    .hasMessageContaining("the passphrase does not open");
            assertThat(LocalKeyProvider.load(keyFile, "second passphrase, long".toCharArray()).keyId()).isEqualTo(rotatedId);
        }
    }

    @Test
    void thePassphraseSourceLineReplacesAnEarlierOneAndKeepsTheRestOfTheBlock() {
        String yaml = "trustDomain: x\nkeyProvider:\n  kind: local   # the KEK\n  path: kek.json\n  passphraseEnv: OLD\n\n"
                + "# audit next\naudit:\n  sinks: []\n";
        String out = KeyPassphraseChange.withPassphraseSource(yaml, "passphraseFile", "/etc/tresor/kek.pass");
        assertThat(out).isEqualTo("trustDomain: x\nkeyProvider:\n  kind: local   # the KEK\n  path: kek.json\n"
                + "  passphraseFile: \"/etc/tresor/kek.pass\"\n\n# audit next\naudit:\n  sinks: []\n");
        assertThatThrownBy(() -> KeyPassphraseChange.withPassphraseSource("store: {}\n", "passphraseFile", "p"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no top-level 'keyProvider:' block");
    }
}
