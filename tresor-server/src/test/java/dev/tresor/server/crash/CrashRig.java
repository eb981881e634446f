package dev.tresor.server.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.PostgresDatabase;
import dev.tresor.testkit.TestPki;
import dev.tresor.testkit.Tls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One Tresor data folder for the crash tests: a test PKI (CA, server certificate, client
 * certificates), a local KEK, a config file (SQLite in the folder, or a PostgreSQL database) and
 * the audit log; plus the HTTP and audit-file helpers the tests use against it.
 */
final class CrashRig {

    static final String TRUST_DOMAIN = "tresor.test";
    static final String ADMIN = "spiffe://" + TRUST_DOMAIN + "/client/admin";
    static final ObjectMapper JSON = new ObjectMapper();

    /** A reply to one request: its status, body and the X-Request-Id the server audited it under. */
    record Reply(int status, String body, String requestId) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    private final Path dir;
    private final TestPki pki;
    private int starts;

    CrashRig(Path dir, PostgresDatabase pg) throws IOException {
        this.dir = dir;
        this.pki = dev.tresor.testkit.TestServerConfig.writeTls(dir, "Tresor Crash Test CA");
        LocalKeyProvider.create(dir.resolve("kek.json"));
        // No `ca:` section: the server's CA is not under test here. The audit write timeout is
        // generous because this runs on busy build machines; a timeout would be a 503, never an ack.
        dev.tresor.testkit.TestServerConfig config = dev.tresor.testkit.TestServerConfig.sqlite().auditWriteTimeout("20s");
        (pg == null ? config : config.postgresql(pg)).writeTo(dir);
    }

    Path dir() {
        return dir;
    }

    Path config() {
        return dir.resolve("tresor.yaml");
    }

    Path auditLog() {
        return dir.resolve("audit.log");
    }

    LocalKeyProvider kek() {
        return LocalKeyProvider.load(dir.resolve("kek.json"));
    }

    /** Starts the server process on this folder; the first start registers the admin. */
    TresorProcess start() throws Exception {
        starts++;
        return TresorProcess.start(config(), starts == 1 ? ADMIN : null, dir.resolve("server-" + starts + ".log"));
    }

    IssuedCert certificate(String identity) {
        return pki.client(identity);
    }

    javax.net.ssl.SSLContext sslContext(IssuedCert cert) {
        return cert.sslContext(pki.caCertificate());
    }

    HttpClient client(IssuedCert cert) {
        return Tls.mtlsHttpClient(cert.sslContext(pki.caCertificate()));
    }

    static Reply call(HttpClient client, int port, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r.headers().firstValue("X-Request-Id").orElse(null));
    }

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The complete (newline-terminated) records of the audit log, header first; a torn tail is left out. */
    List<JsonNode> auditRecords() throws IOException {
        byte[] bytes = Files.readAllBytes(auditLog());
        List<JsonNode> records = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                records.add(JSON.readTree(new String(bytes, start, i - start, StandardCharsets.UTF_8)));
                start = i + 1;
            }
        }
        return records;
    }
}
