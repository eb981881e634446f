package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.bootstrap.CaRotation;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, finding 11: the CA key lay in clear beside the store. Every way a data folder gets a
 * CA key now seals it by the configured key provider; a server refuses a CA key it cannot open.
 */
class CaKeySealingTest {

    @TempDir
    Path root;

    private DataFolder folder;
    private Path caCert;
    private Path caKey;

    @BeforeEach
    void init() {
        folder = new DataFolder(root.resolve("data"));
        folder.create(new DataFolder.Options("tresor.local", "127.0.0.1:0", "127.0.0.1:0", List.of(), "admin",
                Duration.ofDays(1), root.resolve("admin")), Clock.systemUTC());
        caCert = folder.dir().resolve("ca.crt");
        caKey = folder.dir().resolve("ca.key");
    }

    @Test
    void initWritesTheCaKeySealedAndTheServerUsesIt() throws Exception {
        assertThat(Files.readString(caKey)).startsWith("-----BEGIN TRESOR SEALED CA KEY-----").doesNotContain("PRIVATE KEY");
        try (TresorServer server = TresorServer.start(ConfigLoader.load(folder.config()))) {
            assertThat(server.apiPort()).isPositive();
        }
        // The data folder's own tools open it too: renewing the server certificate signs with it.
        assertThat(folder.renewServerCertificateIfExpiring(Duration.ofDays(10_000), Clock.systemUTC())).isTrue();
        X509Certificate renewed = Pem.readCertificates(folder.dir().resolve("server.crt")).getFirst();
        renewed.verify(Pem.readCertificate(caCert).getPublicKey());
    }

    @Test
    void aCaKeyInClearIsSealedInPlaceByTheFirstStart() throws Exception {
        LocalKeyProvider kek = LocalKeyProvider.load(folder.dir().resolve("kek.json"));
        X509Certificate ca = Pem.readCertificate(caCert);
        Pem.writePrivateKey(caKey, SealedCaKey.open(caKey, ca, kek)); // as a store from before sealing had it
        assertThat(Files.readString(caKey)).contains("BEGIN PRIVATE KEY");

        try (TresorServer server = TresorServer.start(ConfigLoader.load(folder.config()))) {
            assertThat(server.apiPort()).isPositive();
        }
        assertThat(Files.readString(caKey)).startsWith("-----BEGIN TRESOR SEALED CA KEY-----").doesNotContain("PRIVATE KEY");
        assertThat(CertificateAuthority.open(caCert, caKey, kek, Clock.systemUTC()).sealedNow()).isFalse();
    }

    @Test
    void theCaKeySealedUnderAnotherKekIsRefusedAtStartNamingIt() throws Exception {
        LocalKeyProvider kek = LocalKeyProvider.load(folder.dir().resolve("kek.json"));
        LocalKeyProvider attacker = LocalKeyProvider.create(root.resolve("attacker-kek.json"));
        X509Certificate ca = Pem.readCertificate(caCert);
        SealedCaKey.rewrap(caKey, ca, kek, attacker);

        assertThatThrownBy(() -> TresorServer.start(ConfigLoader.load(folder.config())).close())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("ca:")
                .hasMessageContaining(attacker.keyId())
                .hasMessageContaining(kek.keyId());
    }

    @Test
    void anotherCasKeySwappedInIsRefusedAtStart() throws Exception {
        LocalKeyProvider kek = LocalKeyProvider.load(folder.dir().resolve("kek.json"));
        CertificateAuthority other = CertificateAuthority.create("tresor.local", Duration.ofDays(30), Clock.systemUTC());
        other.save(root.resolve("other.crt"), root.resolve("other.key"), kek);
        Files.copy(root.resolve("other.key"), caKey, StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> TresorServer.start(ConfigLoader.load(folder.config())).close())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("ca:")
                .hasMessageContaining("another CA certificate");
        // A clear key of another CA is refused as well, and not sealed.
        Pem.writePrivateKey(caKey, KeyPairs.generateP256().getPrivate());
        String before = Files.readString(caKey);
        assertThatThrownBy(() -> TresorServer.start(ConfigLoader.load(folder.config())).close())
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not belong");
        assertThat(Files.readString(caKey)).isEqualTo(before);
    }

    @Test
    void caRotationSealsTheNewKeyAndKeepsTheRetiredOneSealed() throws Exception {
        LocalKeyProvider kek = LocalKeyProvider.load(folder.dir().resolve("kek.json"));
        X509Certificate old = Pem.readCertificate(caCert);
        CaRotation.Result result = CaRotation.rotate(folder.config(), Duration.ofDays(1), Clock.systemUTC());

        assertThat(Files.readString(caKey)).startsWith("-----BEGIN TRESOR SEALED CA KEY-----");
        assertThat(CertificateAuthority.load(caCert, caKey, kek, Clock.systemUTC()).certificate()).isEqualTo(result.newCa());
        Path retiredKey = folder.dir().resolve("ca-retired-" + old.getSerialNumber().toString(16) + ".key");
        assertThat(Files.readString(retiredKey)).startsWith("-----BEGIN TRESOR SEALED CA KEY-----");
        assertThat(SealedCaKey.open(retiredKey, old, kek)).isNotNull();
        try (TresorServer server = TresorServer.start(ConfigLoader.load(folder.config()))) {
            assertThat(server.apiPort()).isPositive();
        }
    }
}
