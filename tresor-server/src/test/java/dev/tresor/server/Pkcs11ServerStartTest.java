package dev.tresor.server;

import dev.tresor.testkit.TestServerConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.model.PutSecret;
import dev.tresor.model.VersionSelector;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.testkit.SoftHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor server with {@code keyProvider.kind: pkcs11} on a real SoftHSM2 token (initialised by
 * the test in a temporary SOFTHSM2_CONF, set for this module's surefire JVM in its pom): the store
 * and the audit log run on the HSM key across restarts; a wrong PIN refuses the start naming
 * keyProvider.pinFile.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Pkcs11ServerStartTest {

    private static final String PIN = SoftHsm.SHARED_PIN;
    private static final String ADMIN = "spiffe://tresor.test/client/admin";

    @TempDir
    Path dir;

    private SoftHsm hsm;

    @BeforeAll
    void token() throws Exception {
        hsm = SoftHsm.shared(); // one token per JVM: KeyMigrationTest uses it too
    }

    private Path folder(String name, String keyLabel, String pin) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        TestServerConfig.writeTls(d, "Pkcs11 Test CA");
        Files.writeString(d.resolve("hsm.pin"), pin + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(d.resolve("hsm.pin"), PosixFilePermissions.fromString("rw-------"));
        TestServerConfig.sqlite().keyProvider("""
                  kind: pkcs11
                  library: %s
                  slot: %d
                  keyLabel: %s
                  pinFile: hsm.pin
                """.formatted(hsm.library(), hsm.slot(), keyLabel)).writeTo(d);
        return d;
    }

    private Pkcs11KeyProvider.Settings settings(String label) {
        return new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null, label);
    }

    @Test
    void theServerRunsItsStoreAndAuditLogOnTheHsmKeyAcrossRestarts() throws Exception {
        Path d = folder("runs", "server-kek", PIN);
        Pkcs11KeyProvider.generateKey(settings("server-kek"), Pkcs11KeyProvider.Pin.fromFile(d.resolve("hsm.pin")), Map.of());
        try (TresorServer server = TresorServer.start(ConfigLoader.load(d.resolve("tresor.yaml")))) {
            Tresor t = server.tresor();
            assertThat(t.keyProvider().keyId()).isEqualTo("pkcs11:server-kek");
            t.bootstrapAdmin("admin", ADMIN);
            Caller root = t.authenticate(ADMIN);
            t.createGroup(root, "ops", null);
            t.addMember(root, "ops", "admin", dev.tresor.model.Role.READ);
            t.secrets().put(root, "db/password", new PutSecret("on-the-hsm".getBytes(StandardCharsets.UTF_8), null, null,
                    List.of("ops"), null, null, null), t.groupCheck());
            assertThat(t.keyringChanges().status().kekId()).isEqualTo("pkcs11:server-kek");
        }
        try (TresorServer server = TresorServer.start(ConfigLoader.load(d.resolve("tresor.yaml")))) {
            Tresor t = server.tresor();
            byte[] value = t.secrets().read(t.authenticate(ADMIN), "db/password", VersionSelector.current(), false).value();
            assertThat(new String(value, StandardCharsets.UTF_8)).isEqualTo("on-the-hsm");
        }
        Pkcs11KeyProvider kek = Pkcs11KeyProvider.open(settings("server-kek"),
                Pkcs11KeyProvider.Pin.fromFile(d.resolve("hsm.pin")), Map.of());
        assertThat(AuditVerifier.verify(d.resolve("audit.log"), kek).ok()).isTrue();
    }

    @Test
    void anOnlineKekRotationMovesToANewTokenKeyAndTheConfigNamesIt() throws Exception {
        Path d = folder("rotates", "rot-kek-1", PIN);
        Path config = d.resolve("tresor.yaml");
        Pkcs11KeyProvider.Pin pin = Pkcs11KeyProvider.Pin.fromFile(d.resolve("hsm.pin"));
        Pkcs11KeyProvider.generateKey(settings("rot-kek-1"), pin, Map.of());
        try (TresorServer server = TresorServer.start(ConfigLoader.load(config))) {
            Tresor t = server.tresor();
            t.bootstrapAdmin("admin", ADMIN);
            Caller root = t.authenticate(ADMIN);
            t.createGroup(root, "ops", null);
            t.addMember(root, "ops", "admin", dev.tresor.model.Role.READ);
            t.secrets().put(root, "db/password", new PutSecret("on-the-hsm".getBytes(StandardCharsets.UTF_8), null, null,
                    List.of("ops"), null, null, null), t.groupCheck());

            Map<String, Object> done = new KekRotation(ConfigLoader.load(config), t).rotateKek();
            assertThat(done).containsEntry("fromKekId", "pkcs11:rot-kek-1").containsEntry("toKekId", "pkcs11:rot-kek-2")
                    .containsEntry("keyLabel", "rot-kek-2").containsEntry("auditChainKeys", 1);
            assertThat(t.keyProvider().keyId()).isEqualTo("pkcs11:rot-kek-2");
            assertThat(Files.readString(config)).contains("keyLabel: \"rot-kek-2\"").doesNotContain("rot-kek-1");
            assertThat(d.resolve("tresor.yaml.kek-next")).doesNotExist();
            byte[] value = t.secrets().read(t.authenticate(ADMIN), "db/password", VersionSelector.current(), false).value();
            assertThat(new String(value, StandardCharsets.UTF_8)).isEqualTo("on-the-hsm");
        }
        try (TresorServer server = TresorServer.start(ConfigLoader.load(config))) {
            Tresor t = server.tresor();
            assertThat(t.keyProvider().keyId()).isEqualTo("pkcs11:rot-kek-2");
            byte[] value = t.secrets().read(t.authenticate(ADMIN), "db/password", VersionSelector.current(), false).value();
            assertThat(new String(value, StandardCharsets.UTF_8)).isEqualTo("on-the-hsm");

            // Cut short after the commit point (keyring and audit key re-wrapped, config not yet rewritten).
            Pkcs11KeyProvider.generateKey(settings("rot-kek-3"), pin, Map.of());
            Pkcs11KeyProvider third = Pkcs11KeyProvider.open(settings("rot-kek-3"), pin, Map.of());
            Files.writeString(d.resolve("tresor.yaml.kek-next"), "rot-kek-3\n");
            dev.tresor.audit.ChainKeys.rewrap(d.resolve("audit.log"), t.keyProvider(), third);
            t.keyringChanges().rewrapUnder(third);
        }
        assertThat(Files.readString(config)).contains("keyLabel: \"rot-kek-2\"");
        try (TresorServer server = TresorServer.start(ConfigLoader.load(config))) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo("pkcs11:rot-kek-3");
        }
        assertThat(Files.readString(config)).contains("keyLabel: \"rot-kek-3\"");
        assertThat(d.resolve("tresor.yaml.kek-next")).doesNotExist();

        // A marker of a rotation that never committed is removed; the config stays.
        Files.writeString(d.resolve("tresor.yaml.kek-next"), "rot-kek-9\n");
        try (TresorServer server = TresorServer.start(ConfigLoader.load(config))) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo("pkcs11:rot-kek-3");
        }
        assertThat(d.resolve("tresor.yaml.kek-next")).doesNotExist();
        assertThat(Files.readString(config)).contains("keyLabel: \"rot-kek-3\"");
        Pkcs11KeyProvider kek = Pkcs11KeyProvider.open(settings("rot-kek-3"), pin, Map.of());
        assertThat(AuditVerifier.verify(d.resolve("audit.log"), kek).ok()).isTrue();
    }

    @Test
    void aWrongPinRefusesTheStartNamingKeyProviderPinFile() throws Exception {
        Path d = folder("wrong-pin", "wrong-pin-kek", "0000");
        Pkcs11KeyProvider.generateKey(settings("wrong-pin-kek"), Pkcs11KeyProvider.Pin.fromEnvironment("PIN"),
                Map.of("PIN", PIN));
        // A fresh process, as a server start is: PKCS#11 logins last as long as the process.
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ServerStartChild.class.getName(), d.resolve("tresor.yaml").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String line = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(child.waitFor()).isZero();
        assertThat(line).startsWith("refused ConfigException: keyProvider: ").contains("wrong PIN")
                .contains(d.resolve("hsm.pin") + " (keyProvider.pinFile)").doesNotContain("0000");
        assertThat(d.resolve("tresor.db")).doesNotExist();
        // The right PIN in the same file: the same start goes through (nothing was locked).
        Files.writeString(d.resolve("hsm.pin"), PIN + "\n", StandardCharsets.UTF_8);
        Process again = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ServerStartChild.class.getName(), d.resolve("tresor.yaml").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()).isEqualTo("started");
        assertThat(again.waitFor()).isZero();
    }

    @Test
    void aKeyLabelTheTokenLacksRefusesTheStartNamingTheFix() throws Exception {
        Path d = folder("no-key", "never-created", PIN);
        assertThatThrownBy(() -> TresorServer.start(ConfigLoader.load(d.resolve("tresor.yaml"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("holds no AES key labelled 'never-created'")
                .hasMessageContaining("keyProvider.keyLabel");
    }
}
