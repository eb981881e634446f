package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.audit.ChainKeys;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code POST /v1/keys/rotate {"kek": true}} on a running server (local provider): the keyring, the
 * audit chain keys and the CA key move to a new KEK, the key file is replaced, reads go on, and the
 * next start runs on the new KEK alone. A rotation cut short after its commit is finished by the
 * next start; one cut short before it is undone.
 */
class KekRotationTest {

    @TempDir
    Path dir;

    /** A group, a secret in it and a client app1 that may read it: what the key tests check stays readable. */
    static void seed(ServerFixture f) {
        IssuedCert admin = f.admin();
        assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
        assertThat(f.call(admin, "PUT", "/v1/secrets/db/password", "{\"value\":\"s3cret\",\"groups\":[\"app\"]}")
                .statusCode()).isEqualTo(201);
        assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"app1\",\"identity\":\"spiffe://tresor.test/app1\"}")
                .statusCode()).isEqualTo(201);
        assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/app1", "{\"role\":\"write\"}").statusCode()).isEqualTo(200);
    }

    private static String read(ServerFixture f, IssuedCert app) {
        HttpResponse<String> get = f.call(app, "GET", "/v1/secrets/db/password", null);
        assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
        return get.body();
    }

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void anOnlineRotationMovesEverythingTheKekWrapsAndTheNextStartNeedsOnlyTheNewKek(ServerFixture.StoreKind kind)
            throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            seed(f);
            IssuedCert app = f.pki().client("spiffe://tresor.test/app1");
            Path keyFile = dir.resolve("kek.json");
            LocalKeyProvider oldKek = LocalKeyProvider.load(keyFile);
            X509Certificate caCert = Pem.readCertificate(dir.resolve("issuer.crt"));

            HttpResponse<String> rotated = f.call(f.admin(), "POST", "/v1/keys/rotate", "{\"kek\":true}");
            assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
            LocalKeyProvider newKek = LocalKeyProvider.load(keyFile);
            assertThat(newKek.keyId()).isNotEqualTo(oldKek.keyId());
            assertThat(rotated.body()).contains("\"fromKekId\":\"" + oldKek.keyId() + "\"")
                    .contains("\"toKekId\":\"" + newKek.keyId() + "\"").contains("\"keyringVersion\":2")
                    .contains("\"auditChainKeys\":1").contains("\"caKey\":true");
            assertThat(Files.getPosixFilePermissions(keyFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(dir.resolve("kek.json.next")).doesNotExist();
            assertThat(dir.resolve("issuer.key.next")).doesNotExist();
            assertThat(f.auditLines()).anySatisfy(line -> assertThat(line).contains("\"action\":\"key.rotate\"")
                    .contains("\"outcome\":\"allowed\"").contains("to=" + newKek.keyId()));

            // The running server goes on: reads, writes, and the CA (its key now sealed under the new KEK).
            assertThat(read(f, app)).contains("\"value\":\"s3cret\"");
            assertThat(f.call(app, "PUT", "/v1/secrets/db/password", "{\"value\":\"n3w\"}").statusCode()).isEqualTo(200);
            PrivateKey caKey = SealedCaKey.open(dir.resolve("issuer.key"), caCert, newKek);
            assertThat(caKey).isNotNull();
            assertThatThrownBy(() -> SealedCaKey.open(dir.resolve("issuer.key"), caCert, oldKek))
                    .hasMessageContaining("sealed under KEK '" + newKek.keyId() + "'");
            HttpResponse<String> status = f.call(f.admin(), "GET", "/v1/keys/status", null);
            assertThat(status.statusCode()).isEqualTo(200);
            assertThat(status.body()).contains("\"provider\":\"local\"").contains("\"kekId\":\"" + newKek.keyId() + "\"")
                    .contains("\"keyringVersion\":2").contains("\"keys\":1");

            f.stopServer();
            var verified = AuditVerifier.verify(f.auditFile(), newKek);
            assertThat(verified.ok()).as(verified.problem()).isTrue();
            assertThat(ChainKeys.fileFor(f.auditFile())).exists();
            f.startServer();
            assertThat(read(f, app)).contains("\"value\":\"n3w\"");
            f.stopServer();
            assertThat(AuditVerifier.verify(f.auditFile(), newKek).ok()).isTrue();
        }
    }

    @Test
    void onlyAdminsRotateOrReadTheKeyStatusAndABodyMustSayWhatToRotate() {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            seed(f);
            IssuedCert app = f.pki().client("spiffe://tresor.test/app1");
            assertThat(f.call(app, "POST", "/v1/keys/rotate", "{\"kek\":true}").statusCode()).isEqualTo(403);
            assertThat(f.call(app, "GET", "/v1/keys/status", null).statusCode()).isEqualTo(403);
            HttpResponse<String> vague = f.call(f.admin(), "POST", "/v1/keys/rotate", "{}");
            assertThat(vague.statusCode()).isEqualTo(400);
            assertThat(vague.body()).contains("kek");
            assertThat(f.call(f.admin(), "GET", "/v1/keys/rotate", null).statusCode()).isEqualTo(405);
            assertThat(dir.resolve("kek.json.next")).doesNotExist();
            assertThat(f.auditLines()).anySatisfy(line -> assertThat(line).contains("\"action\":\"key.rotate\"")
                    .contains("\"outcome\":\"denied\""));
        }
    }

    @Test
    void aRotationCutShortAfterItsCommitIsFinishedByTheNextStartAndOneCutShortBeforeIsUndone() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            seed(f);
            IssuedCert app = f.pki().client("spiffe://tresor.test/app1");
            f.stopServer();
            Path keyFile = dir.resolve("kek.json");
            LocalKeyProvider oldKek = LocalKeyProvider.load(keyFile);
            X509Certificate caCert = Pem.readCertificate(dir.resolve("issuer.crt"));

            // Cut short before the commit: the .next files exist, the keyring is still under the old KEK.
            LocalKeyProvider.create(dir.resolve("kek.json.next"));
            Files.copy(dir.resolve("issuer.key"), dir.resolve("issuer.key.next"));
            f.startServer();
            assertThat(dir.resolve("kek.json.next")).doesNotExist();
            assertThat(dir.resolve("issuer.key.next")).doesNotExist();
            assertThat(LocalKeyProvider.load(keyFile).keyId()).isEqualTo(oldKek.keyId());
            assertThat(read(f, app)).contains("s3cret");
            f.stopServer();

            // Cut short after the commit: every step but the two file moves done.
            LocalKeyProvider newKek = LocalKeyProvider.create(dir.resolve("kek.json.next"));
            ChainKeys.rewrap(f.auditFile(), oldKek, newKek);
            SealedCaKey.write(dir.resolve("issuer.key.next"), SealedCaKey.open(dir.resolve("issuer.key"), caCert, oldKek),
                    caCert, newKek);
            try (Store store = Stores.open(ConfigLoader.load(dir.resolve("tresor.yaml")).store())) {
                Tresor.open(store, oldKek, IntegrityMonitor.NONE, Clock.systemUTC()).keyringChanges().rewrapUnder(newKek);
            }
            f.startServer();
            assertThat(LocalKeyProvider.load(keyFile).keyId()).isEqualTo(newKek.keyId());
            assertThat(dir.resolve("kek.json.next")).doesNotExist();
            assertThat(SealedCaKey.open(dir.resolve("issuer.key"), caCert, newKek)).isNotNull();
            assertThat(read(f, app)).contains("s3cret");
            f.stopServer();
            assertThat(AuditVerifier.verify(List.of(f.auditFile()), newKek).ok()).isTrue();
        }
    }
}
