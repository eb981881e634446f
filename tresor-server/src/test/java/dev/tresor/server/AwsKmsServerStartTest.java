package dev.tresor.server;

import dev.tresor.testkit.TestServerConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.crypto.awskms.AwsKmsKeyProvider;
import dev.tresor.model.PutSecret;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import dev.tresor.testkit.Tls;
import dev.tresor.testkit.kms.LocalKms;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor server with {@code keyProvider.kind: awskms} against the testkit's local KMS server (no
 * real AWS KMS is reachable here; the credentials reach the server as its environment, never the
 * config): the store and the audit log run on the KMS key across restarts with no KMS call per
 * read; with KMS gone while the server runs, reads go on over the API and a keyring rotation
 * answers 503; wrong credentials, access denied and an unreachable KMS refuse the start naming
 * the fix and leave no store behind; credentials written into the config are refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwsKmsServerStartTest {

    private static final String ADMIN = "spiffe://tresor.test/client/admin";

    @TempDir
    Path dir;

    private LocalKms kms;

    @BeforeAll
    void startKms() {
        kms = LocalKms.start("eu-west-1");
    }

    @AfterAll
    void stopKms() {
        kms.close();
    }

    private record Folder(Path dir, TestPki pki) {
        Path config() {
            return dir.resolve("tresor.yaml");
        }
    }

    private Folder folder(String name, String keyId, String extra) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        TestPki pki = TestServerConfig.writeTls(d, "AwsKms Test CA");
        TestServerConfig.sqlite().keyProvider("""
                  kind: awskms
                  keyId: "%s"
                  region: %s
                  endpoint: "%s"
                %s""".formatted(keyId, kms.region(), kms.endpoint(), extra)).writeTo(d);
        return new Folder(d, pki);
    }

    /** The admin (reading group ops) and one secret, db/password = "in-kms". */
    private static void seed(Tresor t) {
        t.bootstrapAdmin("admin", ADMIN);
        Caller root = t.authenticate(ADMIN);
        t.createGroup(root, "ops", null);
        t.addMember(root, "ops", "admin", dev.tresor.model.Role.READ);
        t.secrets().put(root, "db/password", new PutSecret("in-kms".getBytes(StandardCharsets.UTF_8), null, null,
                List.of("ops"), null, null, null), t.groupCheck());
    }

    private TresorServer start(Folder f, Map<String, String> environment) {
        return TresorServer.start(ConfigLoader.load(f.config()), Clock.systemUTC(), environment);
    }

    @Test
    void theServerRunsOnTheKmsKeyAcrossRestartsReadsCallNoKmsAndKmsLostLaterFailsOnlyKeyChanges() throws Exception {
        String arn = kms.createKey();
        kms.alias("alias/tresor-server", arn);
        Folder f = folder("runs", "alias/tresor-server", "");
        try (TresorServer server = start(f, kms.environment())) {
            Tresor t = server.tresor();
            assertThat(t.keyProvider().keyId()).isEqualTo("awskms:" + arn);
            seed(t);
        }
        try (TresorServer server = start(f, kms.environment())) {
            IssuedCert admin = f.pki().client(ADMIN);
            try (HttpClient http = Tls.mtlsHttpClient(admin.sslContext(f.pki().caCertificate()))) {
                long before = kms.calls();
                for (int i = 0; i < 20; i++) {
                    HttpResponse<String> read = call(http, server, "GET", "/v1/secrets/db/password", null);
                    assertThat(read.statusCode()).isEqualTo(200);
                    assertThat(read.body()).contains("in-kms");
                }
                assertThat(kms.calls()).isEqualTo(before);

                kms.down();
                try {
                    assertThat(call(http, server, "GET", "/v1/secrets/db/password", null).statusCode()).isEqualTo(200);
                    HttpResponse<String> rotate = call(http, server, "POST", "/v1/keys/rotate", "{\"keyring\":true}");
                    assertThat(rotate.statusCode()).isEqualTo(503);
                    assertThat(rotate.body()).contains("cannot be used now").doesNotContain("\tat ")
                            .doesNotContain("at dev.tresor");
                    assertThat(call(http, server, "GET", "/v1/secrets/db/password", null).body()).contains("in-kms");
                } finally {
                    kms.up();
                }
                assertThat(call(http, server, "POST", "/v1/keys/rotate", "{\"keyring\":true}").statusCode())
                        .isEqualTo(200);
            }
        }
        AwsKmsKeyProvider kek = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(arn, kms.region(), kms.endpoint()),
                kms.environment());
        assertThat(AuditVerifier.verify(f.dir().resolve("audit.log"), kek).ok()).isTrue();
    }

    @Test
    void anOnlineKekRotationMovesToTheNamedKmsKeyAndTheConfigNamesIt() throws Exception {
        String first = kms.createKey();
        String second = kms.createKey();
        kms.alias("alias/tresor-rot-2", second);
        Folder f = folder("rotates", first, "");
        try (TresorServer server = start(f, kms.environment())) {
            Tresor t = server.tresor();
            seed(t);
            IssuedCert admin = f.pki().client(ADMIN);
            try (HttpClient http = Tls.mtlsHttpClient(admin.sslContext(f.pki().caCertificate()))) {
                HttpResponse<String> unnamed = call(http, server, "POST", "/v1/keys/rotate", "{\"kek\":true}");
                assertThat(unnamed.statusCode()).isEqualTo(400);
                assertThat(unnamed.body()).contains("--key-id");
                HttpResponse<String> missing = call(http, server, "POST", "/v1/keys/rotate",
                        "{\"kek\":true,\"keyId\":\"alias/never-made\"}");
                assertThat(missing.statusCode()).isEqualTo(400);
                assertThat(missing.body()).contains("NotFoundException").contains("nothing changed");
                HttpResponse<String> same = call(http, server, "POST", "/v1/keys/rotate",
                        "{\"kek\":true,\"keyId\":\"" + first + "\"}");
                assertThat(same.statusCode()).isEqualTo(400);
                assertThat(same.body()).contains("in use already");
                assertThat(Files.readString(f.config())).contains(first);

                HttpResponse<String> done = call(http, server, "POST", "/v1/keys/rotate",
                        "{\"kek\":true,\"keyId\":\"alias/tresor-rot-2\"}");
                assertThat(done.statusCode()).isEqualTo(200);
                assertThat(done.body()).contains("awskms:" + first).contains("awskms:" + second)
                        .contains("alias/tresor-rot-2");
            }
            assertThat(t.keyProvider().keyId()).isEqualTo("awskms:" + second);
            assertThat(Files.readString(f.config())).contains("keyId: \"alias/tresor-rot-2\"").doesNotContain(first);
            assertThat(f.dir().resolve("tresor.yaml.kek-next")).doesNotExist();
        }
        String third = kms.createKey();
        try (TresorServer server = start(f, kms.environment())) {
            Tresor t = server.tresor();
            assertThat(t.keyProvider().keyId()).isEqualTo("awskms:" + second);
            assertThat(new String(t.secrets().read(t.authenticate(ADMIN), "db/password",
                    dev.tresor.model.VersionSelector.current(), false).value(), StandardCharsets.UTF_8)).isEqualTo("in-kms");
            // Cut short after the commit point (keyring and audit key re-wrapped, config not yet rewritten).
            AwsKmsKeyProvider next = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(third, kms.region(),
                    kms.endpoint()), kms.environment());
            Files.writeString(f.dir().resolve("tresor.yaml.kek-next"), third + "\n" + third + "\n");
            dev.tresor.audit.ChainKeys.rewrap(f.dir().resolve("audit.log"), t.keyProvider(), next);
            t.keyringChanges().rewrapUnder(next);
        }
        try (TresorServer server = start(f, kms.environment())) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo("awskms:" + third);
        }
        assertThat(Files.readString(f.config())).contains("keyId: \"" + third + "\"");
        assertThat(f.dir().resolve("tresor.yaml.kek-next")).doesNotExist();
        // A marker of a rotation that never committed is removed; the config stays.
        Files.writeString(f.dir().resolve("tresor.yaml.kek-next"), second + "\nalias/tresor-rot-2\n");
        try (TresorServer server = start(f, kms.environment())) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo("awskms:" + third);
        }
        assertThat(f.dir().resolve("tresor.yaml.kek-next")).doesNotExist();
        assertThat(Files.readString(f.config())).contains("keyId: \"" + third + "\"");
        AwsKmsKeyProvider kek = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(third, kms.region(), kms.endpoint()),
                kms.environment());
        assertThat(AuditVerifier.verify(f.dir().resolve("audit.log"), kek).ok()).isTrue();
    }

    private static HttpResponse<String> call(HttpClient http, TresorServer server, String method, String path,
                                             String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + server.apiPort() + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void wrongCredentialsAccessDeniedAndAnUnreachableKmsRefuseTheStartAndLeaveNoStore() throws Exception {
        String arn = kms.createKey();
        Folder f = folder("refused", arn, "");
        Map<String, String> wrongSecret = new HashMap<>(kms.environment());
        wrongSecret.put("AWS_SECRET_ACCESS_KEY", "wrong-secret-key");
        assertThatThrownBy(() -> start(f, wrongSecret)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("keyProvider: ").hasMessageContaining("refused the credentials")
                .hasMessageContaining("InvalidSignatureException").hasMessageNotContaining("wrong-secret-key");
        kms.denyAccess(true);
        try {
            assertThatThrownBy(() -> start(f, kms.environment())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("denied access").hasMessageContaining("kms:GenerateDataKey");
        } finally {
            kms.denyAccess(false);
        }
        kms.down();
        try {
            assertThatThrownBy(() -> start(f, kms.environment())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("is not reachable").hasMessageContaining("keyProvider.endpoint");
        } finally {
            kms.up();
        }
        assertThat(f.dir().resolve("tresor.db")).doesNotExist();
        try (TresorServer server = start(f, kms.environment())) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo("awskms:" + arn);
        }
    }

    @Test
    void credentialsInTheConfigAndAMissingKeyIdAreRefusedAtLoad() throws Exception {
        Folder secret = folder("secret-in-config", "alias/x", "  secretAccessKey: \"abc\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(secret.config())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("keyProvider.secretAccessKey: AWS credentials never go in the config")
                .hasMessageNotContaining("abc");
        Folder noKey = folder("no-key-id", "", "");
        assertThatThrownBy(() -> ConfigLoader.load(noKey.config())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("keyProvider.keyId: required for kind awskms");
        Folder pin = folder("pin-file", "alias/x", "  pinFile: hsm.pin\n");
        assertThatThrownBy(() -> ConfigLoader.load(pin.config())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("keyProvider.pinFile: not used by keyProvider.kind 'awskms'");
    }
}
