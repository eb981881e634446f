package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.server.bootstrap.ConfigEdits;
import dev.tresor.server.bootstrap.KekAdoption;
import dev.tresor.testkit.SoftHsm;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tresor key adopt} on a node whose KEK another node rotated: with only the new key file,
 * this node's audit log and CA key (still under the old KEK) refuse the start; adopting re-wraps
 * them, and the node starts and verifies its log with the new KEK alone.
 */
class KekAdoptionTest {

    @TempDir
    Path dir;

    @TempDir
    Path elsewhere;

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void aNodeAdoptsTheKekAnotherNodeRotated(ServerFixture.StoreKind kind) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            assertThat(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            f.stopServer();
            Path config = dir.resolve("tresor.yaml");
            Path keyFile = dir.resolve("kek.json");
            LocalKeyProvider old = LocalKeyProvider.load(keyFile);

            // What the other node's online rotation did to the shared store: the keyring under a new KEK.
            LocalKeyProvider rotated = LocalKeyProvider.create(elsewhere.resolve("kek.json"));
            try (Store store = Stores.open(ConfigLoader.load(config).store())) {
                Tresor.open(store, old, IntegrityMonitor.NONE, Clock.systemUTC()).keyringChanges().rewrapUnder(rotated);
            }
            Path before = elsewhere.resolve("kek-before.json");
            Files.copy(keyFile, before, StandardCopyOption.COPY_ATTRIBUTES);
            // Adopting before the new key file is in place is refused, naming both KEKs.
            assertThatThrownBy(() -> KekAdoption.adopt(config, before, Map.of())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("same KEK");
            // A key file that is not the rotated KEK at keyProvider.path: refused, naming the KEK that wraps the store.
            LocalKeyProvider stranger = LocalKeyProvider.create(elsewhere.resolve("stranger.json"));
            Files.copy(elsewhere.resolve("stranger.json"), keyFile, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);
            assertThatThrownBy(() -> KekAdoption.adopt(config, before, Map.of())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("wrapped by " + rotated.keyId()).hasMessageContaining("not by " + stranger.keyId());
            assertThat(SealedCaKey.isSealed(dir.resolve("issuer.key"))).isTrue();
            Files.copy(elsewhere.resolve("kek.json"), keyFile, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);

            // This node's own files are still under the old KEK: the start is refused.
            assertThatThrownBy(f::startServer).hasMessageContaining("cannot be unwrapped with KEK " + rotated.keyId());
            assertThatThrownBy(() -> KekAdoption.adopt(config, elsewhere.resolve("missing.json"), Map.of()))
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith("--from: ");

            KekAdoption.Result adopted = KekAdoption.adopt(config, before, Map.of());
            assertThat(adopted.fromKekId()).isEqualTo(old.keyId());
            assertThat(adopted.toKekId()).isEqualTo(rotated.keyId());
            assertThat(adopted.auditChainKeys()).isEqualTo(1);
            assertThat(adopted.caKeys()).containsExactly(dir.resolve("issuer.key"));
            SealedCaKey.open(dir.resolve("issuer.key"), Pem.readCertificate(dir.resolve("issuer.crt")), rotated);
            // Twice is harmless.
            assertThat(KekAdoption.adopt(config, before, Map.of()).caKeys()).isEmpty();

            f.startServer();
            assertThat(f.call(f.admin(), "GET", "/v1/groups", null).statusCode()).isEqualTo(200);
            f.stopServer();
            var verified = AuditVerifier.verify(f.auditFile(), rotated);
            assertThat(verified.ok()).as(verified.problem()).isTrue();
        }
    }

    /** Where another node's {@code tresor key migrate} moved the keyring: a sealed key file, or a token key. */
    enum Target { SEALED_LOCAL, PKCS11 }

    /**
     * After {@code tresor key migrate} on another node, this node's config gets the new keyProvider
     * block; its audit chain key and CA key are still under the old provider, so it does not start.
     * {@code adoptFrom} with the block it had before re-wraps them, for any pair of providers.
     */
    @ParameterizedTest
    @EnumSource(Target.class)
    void aNodeAdoptsAMigrationElsewhereGivenTheProviderBlockItHadBefore(Target target) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            assertThat(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            f.stopServer();
            Path config = dir.resolve("tresor.yaml");
            LocalKeyProvider old = LocalKeyProvider.load(dir.resolve("kek.json"));
            String oldBlock = "keyProvider:\n  kind: local\n  path: kek.json\n";
            String newBlock = switch (target) {
                case SEALED_LOCAL -> {
                    String passphrase = "a long passphrase for the adopted key";
                    Path pass = dir.resolve("kek.pass");
                    Files.writeString(pass, passphrase + "\n");
                    Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
                    LocalKeyProvider.createSealed(dir.resolve("kek-sealed.json"), passphrase.toCharArray());
                    yield "keyProvider:\n  kind: local\n  path: kek-sealed.json\n  passphraseFile: kek.pass\n";
                }
                case PKCS11 -> {
                    SoftHsm hsm = SoftHsm.shared();
                    Path pin = dir.resolve("hsm.pin");
                    Files.writeString(pin, hsm.userPin() + "\n");
                    Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-------"));
                    String label = "adopt-" + UUID.randomUUID();
                    Pkcs11KeyProvider.generateKey(new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null, label),
                            Pkcs11KeyProvider.Pin.fromFile(pin), Map.of());
                    yield "keyProvider:\n  kind: pkcs11\n  library: " + hsm.library() + "\n  slot: " + hsm.slot()
                            + "\n  keyLabel: " + label + "\n  pinFile: hsm.pin\n";
                }
            };
            // What the other node's migration did to the shared store, and what the operator then does
            // to this node's config: the keyring under the new provider's KEK, the config naming it.
            ConfigEdits.writeAtomically(config, ConfigEdits.withKeyProviderBlock(Files.readString(config), newBlock));
            KeyProvider migrated = ConfigLoader.load(config).openKeyProvider(Map.of());
            try (Store store = Stores.open(ConfigLoader.load(config).store())) {
                Tresor.open(store, old, IntegrityMonitor.NONE, Clock.systemUTC()).keyringChanges().rewrapUnder(migrated);
            }
            assertThatThrownBy(f::startServer).hasMessageContaining("cannot be unwrapped with KEK " + migrated.keyId());

            assertThatThrownBy(() -> KekAdoption.adoptFrom(config, newBlock, Map.of())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("same KEK");
            assertThatThrownBy(() -> KekAdoption.adoptFrom(config, "keyProvider:\n  kind: vault\n", Map.of()))
                    .isInstanceOf(ConfigException.class).hasMessageStartingWith("--from-provider: ");
            assertThatThrownBy(() -> KekAdoption.adoptFrom(config, "keyProvider:\n  kind: local\n  path: missing.json\n",
                    Map.of())).isInstanceOf(ConfigException.class).hasMessageStartingWith("--from-provider: ");
            assertThat(SealedCaKey.isSealed(dir.resolve("issuer.key"))).isTrue();

            KekAdoption.Result adopted = KekAdoption.adoptFrom(config, oldBlock, Map.of());
            assertThat(adopted.fromKekId()).isEqualTo(old.keyId());
            assertThat(adopted.toKekId()).isEqualTo(migrated.keyId());
            assertThat(adopted.auditChainKeys()).isEqualTo(1);
            assertThat(adopted.caKeys()).containsExactly(dir.resolve("issuer.key"));
            assertThat(dir.resolve("tresor.yaml.adopt-from")).doesNotExist();
            assertThat(Files.readString(config)).contains(newBlock.lines().skip(1).findFirst().orElseThrow());
            // Twice is harmless.
            assertThat(KekAdoption.adoptFrom(config, oldBlock, Map.of()).caKeys()).isEmpty();

            f.startServer();
            assertThat(f.call(f.admin(), "GET", "/v1/groups", null).statusCode()).isEqualTo(200);
            f.stopServer();
            var verified = AuditVerifier.verify(f.auditFile(), migrated);
            assertThat(verified.ok()).as(verified.problem()).isTrue();
        }
    }
}
