package dev.tresor.server;

import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.PostgresDatabase;
import dev.tresor.testkit.Tls;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Tresor server for tests: its own test PKI (independent of the production CA code), a
 * fresh store (SQLite file or a fresh PostgreSQL database), real TLS on a free port, and an
 * admin client. Tests talk to it with {@link #client(IssuedCert)} exactly as a workload would.
 */
public final class ServerFixture implements AutoCloseable {

    public enum StoreKind { SQLITE, POSTGRESQL }

    public static final String TRUST_DOMAIN = "tresor.test";

    private final Path dir;
    private final TestPki pki;
    private final IssuedCert admin;
    private final StoreKind kind;
    private final PostgresDatabase pg;
    private TresorServer server;

    private ServerFixture(Path dir, StoreKind kind) {
        this.dir = dir;
        this.kind = kind;
        this.pki = TestPki.create("Tresor Test CA", TRUST_DOMAIN);
        this.pg = kind == StoreKind.POSTGRESQL ? EmbeddedPostgres.freshDatabase() : null;
        try {
            pki.writeCaPem(dir.resolve("ca.crt"));
            Files.writeString(dir.resolve("ca.key"), TestPki.pem(pki.caKey()));
            Files.setPosixFilePermissions(dir.resolve("ca.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            pki.server("localhost", "127.0.0.1").writePem(dir, "server");
            LocalKeyProvider.create(dir.resolve("kek.json"));
            Files.writeString(dir.resolve("tresor.yaml"), config());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.admin = pki.client("spiffe://" + TRUST_DOMAIN + "/client/admin");
    }

    /** Creates the folder and starts the server; the admin client is registered. */
    public static ServerFixture start(Path dir, StoreKind kind) {
        ServerFixture f = new ServerFixture(dir, kind);
        f.startServer();
        f.server.tresor().bootstrapAdmin("admin", "spiffe://" + TRUST_DOMAIN + "/client/admin");
        return f;
    }

    /** (Re)starts the server on the same folder and store. */
    public void startServer() {
        ServerSettings settings = ConfigLoader.load(dir.resolve("tresor.yaml"));
        server = TresorServer.start(settings);
    }

    public void stopServer() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    private String config() {
        String store = kind == StoreKind.SQLITE
                ? "  kind: sqlite\n  path: tresor.db\n"
                : "  kind: postgresql\n  url: \"" + pg.jdbcUrl() + "\"\n  user: " + pg.user() + "\n  password: \"" + pg.password() + "\"\n";
        return """
                trustDomain: %s
                listen:
                  api: "127.0.0.1:0"
                  management: "127.0.0.1:0"
                tls:
                  cert: server.crt
                  key: server.key
                  clientCa: ca.crt
                ca:
                  cert: ca.crt
                  key: ca.key
                store:
                %skeyProvider:
                  kind: local
                  path: kek.json
                audit:
                  writeTimeout: 2s
                  fsyncInterval: 20ms
                  sinks:
                    - kind: file
                      path: audit.log
                """.formatted(TRUST_DOMAIN, store.indent(0).replace("\n  ", "\n  "));
    }

    public TresorServer server() {
        return server;
    }

    public Path dir() {
        return dir;
    }

    public TestPki pki() {
        return pki;
    }

    public IssuedCert admin() {
        return admin;
    }

    public PostgresDatabase postgres() {
        return pg;
    }

    public StoreKind kind() {
        return kind;
    }

    public URI api(String path) {
        return URI.create("https://localhost:" + server.apiPort() + path);
    }

    public URI management(String path) {
        return URI.create("http://127.0.0.1:" + server.managementPort() + path);
    }

    public HttpClient client(IssuedCert cert) {
        return Tls.mtlsHttpClient(cert.sslContext(pki.caCertificate()));
    }

    /** Sends a request as {@code cert}; body may be null. */
    public HttpResponse<String> call(IssuedCert cert, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(api(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            return client(cert).send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stopServer();
    }
}
