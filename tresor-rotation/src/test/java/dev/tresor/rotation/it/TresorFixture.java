package dev.tresor.rotation.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.server.TresorServer;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import dev.tresor.testkit.Tls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real Tresor server (SQLite store, mTLS on a free port) with an admin client and a rotation
 * client {@code rotator} that has the write role in group {@code rotation}, as an operator sets it
 * up. Modelled on tresor-server's ServerFixture; kept minimal here instead of sharing a test-jar.
 */
final class TresorFixture implements AutoCloseable {

    static final String TRUST_DOMAIN = "tresor.test";
    static final String GROUP = "rotation";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final TestPki pki;
    private final IssuedCert admin;
    private final IssuedCert rotator;
    private final TresorServer server;
    private final HttpClient adminHttp;
    private final HttpClient rotatorHttp;

    private TresorFixture(Path dir) throws IOException {
        this.dir = dir;
        this.pki = TestPki.create("Tresor Test CA", TRUST_DOMAIN);
        pki.writeCaPem(dir.resolve("ca.crt"));
        Files.writeString(dir.resolve("ca.key"), TestPki.pem(pki.caKey()));
        Files.setPosixFilePermissions(dir.resolve("ca.key"), PosixFilePermissions.fromString("rw-------"));
        pki.server("localhost", "127.0.0.1").writePem(dir, "server");
        LocalKeyProvider.create(dir.resolve("kek.json"));
        dev.tresor.testkit.TestServerConfig.sqlite().auditWriteTimeout("5s")
                .extra("ca:\n  cert: ca.crt\n  key: ca.key\n").writeTo(dir);
        this.server = TresorServer.start(ConfigLoader.load(dir.resolve("tresor.yaml")));
        this.admin = pki.client("spiffe://" + TRUST_DOMAIN + "/client/admin");
        this.rotator = pki.client("spiffe://" + TRUST_DOMAIN + "/job/rotation");
        rotator.writePem(dir, "rotator");
        this.adminHttp = Tls.mtlsHttpClient(admin.sslContext(pki.caCertificate()));
        this.rotatorHttp = Tls.mtlsHttpClient(rotator.sslContext(pki.caCertificate()));
    }

    static TresorFixture start(Path dir) throws IOException {
        TresorFixture f = new TresorFixture(dir);
        try {
            f.server.tresor().bootstrapAdmin("admin", "spiffe://" + TRUST_DOMAIN + "/client/admin");
            f.admin("POST", "/v1/groups", Map.of("name", GROUP));
            f.admin("POST", "/v1/clients", Map.of("name", "rotator", "identity", "spiffe://" + TRUST_DOMAIN + "/job/rotation"));
            f.admin("PUT", "/v1/groups/" + GROUP + "/clients/rotator", Map.of("role", "write"));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
        return f;
    }

    TresorConnection rotatorConnection() {
        return new TresorConnection(URI.create("https://localhost:" + server.apiPort()), dir.resolve("rotator.crt"),
                dir.resolve("rotator.key"), dir.resolve("ca.crt"));
    }

    /** Creates a secret in the rotation group with its first value (as the admin). */
    void createSecret(String name, String value) {
        admin("PUT", "/v1/secrets/" + name, Map.of("value", value, "groups", List.of(GROUP)));
    }

    JsonNode admin(String method, String path, Object body) {
        return call(adminHttp, method, path, body);
    }

    /** Reads as the rotation identity (admins read values only through a group). */
    JsonNode rotator(String method, String path, Object body) {
        return call(rotatorHttp, method, path, body);
    }

    private JsonNode call(HttpClient http, String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + server.apiPort() + path))
                    .timeout(Duration.ofSeconds(30));
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() >= 300) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + new String(r.body()));
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The current value as JSON, its version and its labels. */
    JsonNode current(String name) {
        return rotator("GET", "/v1/secrets/" + name, null);
    }

    JsonNode value(String name) {
        try {
            return JSON.readTree(current(name).path("value").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Version metadata with labels: changes whenever anything about the secret does. */
    String versions(String name) {
        return admin("GET", "/v1/secrets/" + name + "/versions", null).toString();
    }

    @Override
    public void close() {
        server.close();
        adminHttp.close();
        rotatorHttp.close();
    }
}
