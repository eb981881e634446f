package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.Tresor;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.audit.ChainKeys;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import dev.tresor.testkit.SoftHsm;
import dev.tresor.testkit.kms.LocalKms;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code POST /v1/keys/migrate} ({@code tresor key migrate --to}): the KEK moves between providers
 * (local, local sealed by a passphrase, pkcs11 on a real SoftHSM2 token, awskms against the
 * testkit's local KMS) while the server runs; each move keeps every value readable, is audited,
 * and the next start needs only the new provider. Bad targets change nothing; a migration cut
 * short is finished or undone by the next start.
 */
class KeyMigrationTest {

    private static final AtomicInteger LABELS = new AtomicInteger();
    private static final String PASSPHRASE = "a long passphrase for the migrated key";

    @TempDir
    Path dir;

    private LocalKms kms;
    private SoftHsm hsm;

    @BeforeEach
    void providers() throws Exception {
        kms = LocalKms.start("eu-central-1");
        hsm = SoftHsm.shared();
    }

    @AfterEach
    void stopKms() {
        kms.close();
    }

    private static String read(ServerFixture f) {
        HttpResponse<String> get = f.call(f.pki().client("spiffe://tresor.test/app1"), "GET", "/v1/secrets/db/password",
                null);
        assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
        return get.body();
    }

    private static HttpResponse<String> migrate(ServerFixture f, String spec) {
        return f.call(f.admin(), "POST", "/v1/keys/migrate", json(Map.of("to", spec)));
    }

    private static String json(Object value) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, String> env() {
        return kms.environment();
    }

    private String pkcs11Spec(String label) throws Exception {
        Path pin = dir.resolve("hsm.pin");
        if (!Files.exists(pin)) {
            Files.writeString(pin, hsm.userPin() + "\n");
            Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-------"));
        }
        Pkcs11KeyProvider.generateKey(new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null, label),
                Pkcs11KeyProvider.Pin.fromFile(pin), Map.of());
        return "keyProvider:\n  kind: pkcs11\n  library: " + hsm.library() + "\n  slot: " + hsm.slot() + "\n  keyLabel: "
                + label + "\n  pinFile: hsm.pin\n";
    }

    private String kmsSpec(String arn) {
        return "keyProvider:\n  kind: awskms\n  keyId: \"" + arn + "\"\n  region: " + kms.region() + "\n  endpoint: \""
                + kms.endpoint() + "\"\n";
    }

    private String sealedSpec(String file) throws Exception {
        Path pass = dir.resolve("kek.pass");
        Files.writeString(pass, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        return "keyProvider:\n  kind: local\n  path: " + file + "\n  passphraseFile: kek.pass\n";
    }

    private String kekInUse(ServerFixture f) {
        return f.server().tresor().keyProvider().keyId();
    }

    /** Migrates, checks the answer, the audit record, the config, that values stay readable, and a restart. */
    private void migrateAndRestart(ServerFixture f, String spec, String kind) {
        String before = kekInUse(f);
        HttpResponse<String> done = migrate(f, spec);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        String after = kekInUse(f);
        assertThat(after).isNotEqualTo(before);
        assertThat(done.body()).contains("\"fromKekId\":\"" + before + "\"").contains("\"toKekId\":\"" + after + "\"")
                .contains("\"toProvider\":\"" + kind + "\"").doesNotContain("\"auditChainKeys\":0").contains("\"caKey\":true");
        assertThat(f.auditLines()).anySatisfy(line -> assertThat(line).contains("\"action\":\"key.migrate\"")
                .contains("\"outcome\":\"allowed\"").contains("to=" + after));
        assertThat(dir.resolve("tresor.yaml.migrate-next")).doesNotExist();
        assertThat(ConfigLoader.load(dir.resolve("tresor.yaml")).keyProviderKind()).isEqualTo(kind);
        assertThat(read(f)).contains("s3cret");
        HttpResponse<String> status = f.call(f.admin(), "GET", "/v1/keys/status", null);
        assertThat(status.body()).contains("\"provider\":\"" + kind + "\"").contains("\"kekId\":\"" + after + "\"");
        // The running server goes on writing under the new KEK; the next start needs only the new provider.
        assertThat(f.call(f.admin(), "PUT", "/v1/secrets/db/password", "{\"value\":\"s3cret-" + kind + "\"}")
                .statusCode()).isEqualTo(200);
        f.stopServer();
        f.startServer(env());
        assertThat(kekInUse(f)).isEqualTo(after);
        assertThat(read(f)).contains("s3cret-" + kind);
    }

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void theKekMovesThroughEveryProviderOnlineAndEveryValueStaysReadable(ServerFixture.StoreKind kind) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            f.stopServer();
            f.startServer(env());
            KekRotationTest.seed(f);
            migrateAndRestart(f, sealedSpec("kek-sealed.json"), "local");
            assertThat(LocalKeyProvider.isSealed(dir.resolve("kek-sealed.json"))).isTrue();
            assertThat(Files.getPosixFilePermissions(dir.resolve("kek-sealed.json")))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            migrateAndRestart(f, pkcs11Spec("migrate-" + LABELS.incrementAndGet()), "pkcs11");
            migrateAndRestart(f, kmsSpec(kms.createKey()), "awskms");
            migrateAndRestart(f, "keyProvider:\n  kind: local\n  path: kek-plain.json\n", "local");
            KeyProvider last = LocalKeyProvider.load(dir.resolve("kek-plain.json"));
            X509Certificate caCert = Pem.readCertificate(dir.resolve("issuer.crt"));
            assertThat(SealedCaKey.open(dir.resolve("issuer.key"), caCert, last)).isNotNull();
            f.stopServer();
            var verified = AuditVerifier.verify(f.auditFile(), last);
            assertThat(verified.ok()).as(verified.problem()).isTrue();
            // The rest of the config is as it was: only the keyProvider block changed.
            String config = Files.readString(dir.resolve("tresor.yaml"));
            assertThat(config).contains("trustDomain: tresor.test").contains("sinks:").contains("path: kek-plain.json")
                    .doesNotContain("pkcs11").doesNotContain("awskms").doesNotContain("kek.json\n");
        }
    }

    @Test
    void aBadTargetIsRefusedNamingTheFixAndChangesNothing() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            f.stopServer();
            f.startServer(env());
            KekRotationTest.seed(f);
            String config = Files.readString(dir.resolve("tresor.yaml"));
            String kek = kekInUse(f);
            Files.writeString(dir.resolve("wrong.pass"), "not the passphrase of that file\n");
            Files.setPosixFilePermissions(dir.resolve("wrong.pass"), PosixFilePermissions.fromString("rw-------"));
            sealedSpec("kek-existing.json");
            LocalKeyProvider.createSealed(dir.resolve("kek-existing.json"), PASSPHRASE.toCharArray());
            String deniedKey = kms.createKey();
            String downKey = kms.createKey();
            Map<String, String> refusals = new java.util.LinkedHashMap<>();
            refusals.put("kind: local\n", "no top-level 'keyProvider:' block");
            refusals.put("keyProvider:\n  kind: vault\n", "keyProvider.kind: 'vault' is not available");
            refusals.put("keyProvider:\n  kind: local\n  path: kek.json\n", "holds the KEK in use already");
            refusals.put("keyProvider:\n  kind: local\n  path: kek-existing.json\n  passphraseFile: wrong.pass\n",
                    "wrong.pass");
            refusals.put("keyProvider:\n  kind: local\n  path: kek-existing.json\n", "asks no terminal");
            refusals.put("keyProvider:\n  kind: local\n  path: kek-weak.json\n  passphraseFile: weak.pass\n",
                    "weak.pass");
            refusals.put("keyProvider:\n  kind: pkcs11\n  library: /no/such/libsofthsm2.so\n  slot: 1\n  keyLabel: k\n"
                    + "  pinFile: hsm.pin\n", "apt-get install softhsm2");
            refusals.put(pkcs11Spec("migrate-" + LABELS.incrementAndGet()).replaceFirst("keyLabel: .*", "keyLabel: absent"),
                    "holds no AES key labelled 'absent'");
            refusals.put(kmsSpec(deniedKey), "denied");
            refusals.put(kmsSpec(downKey), "");
            Files.writeString(dir.resolve("weak.pass"), "short\n");
            Files.setPosixFilePermissions(dir.resolve("weak.pass"), PosixFilePermissions.fromString("rw-------"));
            for (Map.Entry<String, String> r : refusals.entrySet()) {
                kms.denyAccess(r.getKey().contains(deniedKey));
                if (r.getKey().contains(downKey)) {
                    kms.down();
                }
                HttpResponse<String> refused = migrate(f, r.getKey());
                kms.up();
                kms.denyAccess(false);
                assertThat(refused.statusCode()).as(r.getKey() + " -> " + refused.body()).isEqualTo(400);
                assertThat(refused.body()).as(r.getKey()).contains(r.getValue()).contains("nothing changed")
                        .doesNotContain(PASSPHRASE).doesNotContain(hsm.userPin());
                assertThat(Files.readString(dir.resolve("tresor.yaml"))).isEqualTo(config);
                assertThat(dir.resolve("tresor.yaml.migrate-next")).doesNotExist();
                assertThat(dir.resolve("issuer.key.next")).doesNotExist();
                assertThat(kekInUse(f)).isEqualTo(kek);
                assertThat(read(f)).contains("s3cret");
            }
            assertThat(dir.resolve("kek-weak.json")).doesNotExist();
            assertThat(f.auditLines()).anySatisfy(line -> assertThat(line).contains("\"action\":\"key.migrate\"")
                    .doesNotContain("\"outcome\":\"allowed\""));
            // Only admins migrate.
            assertThat(f.call(f.pki().client("spiffe://tresor.test/app1"), "POST", "/v1/keys/migrate",
                    "{\"to\":\"keyProvider:\\n  kind: local\\n  path: x.json\\n\"}").statusCode()).isEqualTo(403);
            assertThat(dir.resolve("x.json")).doesNotExist();
            f.stopServer();
            f.startServer(env());
            assertThat(kekInUse(f)).isEqualTo(kek);
        }
    }

    /**
     * Leaves the state of a migration to {@code newKek} cut right after its commit: the marker
     * (headed by the new KEK id), audit chain key and CA key re-wrapped, the keyring re-wrapped in
     * the store; the config and the CA key file not yet replaced. The server is stopped.
     */
    private void cutAfterTheCommit(ServerFixture f, String migrated, KeyProvider oldKek, KeyProvider newKek)
            throws Exception {
        Files.writeString(dir.resolve("tresor.yaml.migrate-next"),
                "# tresor key migrate: the keyring moves to KEK " + newKek.keyId() + "\n" + migrated);
        ChainKeys.rewrap(f.auditFile(), oldKek, newKek);
        X509Certificate caCert = Pem.readCertificate(dir.resolve("issuer.crt"));
        SealedCaKey.write(dir.resolve("issuer.key.next"), SealedCaKey.open(dir.resolve("issuer.key"), caCert, oldKek),
                caCert, newKek);
        try (Store store = Stores.open(ConfigLoader.load(dir.resolve("tresor.yaml")).store())) {
            Tresor.open(store, oldKek, IntegrityMonitor.NONE, Clock.systemUTC()).keyringChanges().rewrapUnder(newKek);
        }
    }

    @Test
    void aMigrationCutShortIsUndoneBeforeItsCommitAndFinishedAfterIt() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            KekRotationTest.seed(f);
            f.stopServer();
            Path config = dir.resolve("tresor.yaml");
            Path marker = dir.resolve("tresor.yaml.migrate-next");
            String before = Files.readString(config);
            LocalKeyProvider oldKek = LocalKeyProvider.load(dir.resolve("kek.json"));
            X509Certificate caCert = Pem.readCertificate(dir.resolve("issuer.crt"));
            String spec = pkcs11Spec("migrate-" + LABELS.incrementAndGet());
            String migrated = dev.tresor.server.bootstrap.ConfigEdits.withKeyProviderBlock(before, spec);
            Pkcs11KeyProvider newKek = (Pkcs11KeyProvider) ConfigLoader.parse(migrated, dir).openKeyProvider(Map.of());
            String header = "# tresor key migrate: the keyring moves to KEK " + newKek.keyId() + "\n";

            // Cut while the target was being opened (no KEK id recorded yet), then after the CA key was re-sealed.
            Files.writeString(marker, migrated);
            f.startServer(env());
            assertThat(marker).doesNotExist();
            assertThat(Files.readString(config)).isEqualTo(before);
            assertThat(read(f)).contains("s3cret");
            f.stopServer();
            Files.writeString(marker, header + migrated);
            SealedCaKey.write(dir.resolve("issuer.key.next"), SealedCaKey.open(dir.resolve("issuer.key"), caCert, oldKek),
                    caCert, newKek);
            f.startServer(env());
            assertThat(marker).doesNotExist();
            assertThat(dir.resolve("issuer.key.next")).doesNotExist();
            assertThat(Files.readString(config)).isEqualTo(before);
            assertThat(kekInUse(f)).isEqualTo(oldKek.keyId());
            assertThat(read(f)).contains("s3cret");
            f.stopServer();

            // Cut after the commit: everything re-wrapped, the keyring row names the new KEK, the config not yet rewritten.
            cutAfterTheCommit(f, migrated, oldKek, newKek);
            f.startServer(env());
            assertThat(kekInUse(f)).isEqualTo(newKek.keyId());
            assertThat(marker).doesNotExist();
            assertThat(Files.readString(config)).isEqualTo(migrated).doesNotContain("tresor key migrate");
            assertThat(SealedCaKey.open(dir.resolve("issuer.key"), caCert, newKek)).isNotNull();
            assertThat(read(f)).contains("s3cret");
            f.stopServer();
            assertThat(AuditVerifier.verify(f.auditFile(), newKek).ok()).isTrue();
        }
    }

    @Test
    void aMigrationToKmsCutAfterItsCommitIsFinishedEvenWhileKmsIsDownAndStartsOnceItIsBack() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            KekRotationTest.seed(f);
            f.stopServer();
            Path config = dir.resolve("tresor.yaml");
            LocalKeyProvider oldKek = LocalKeyProvider.load(dir.resolve("kek.json"));
            String migrated = dev.tresor.server.bootstrap.ConfigEdits.withKeyProviderBlock(Files.readString(config),
                    kmsSpec(kms.createKey()));
            KeyProvider newKek = ConfigLoader.parse(migrated, dir).openKeyProvider(env());
            cutAfterTheCommit(f, migrated, oldKek, newKek);
            kms.down();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.startServer(env()))
                    .isInstanceOf(dev.tresor.server.config.ConfigException.class).hasMessageContaining("keyProvider");
            // Finished all the same: the config names the KMS key the keyring is wrapped by, nothing is left half-done.
            assertThat(Files.readString(config)).isEqualTo(migrated);
            assertThat(dir.resolve("tresor.yaml.migrate-next")).doesNotExist();
            assertThat(dir.resolve("issuer.key.next")).doesNotExist();
            kms.up();
            f.startServer(env());
            assertThat(kekInUse(f)).isEqualTo(newKek.keyId());
            assertThat(read(f)).contains("s3cret");
        }
    }
}
