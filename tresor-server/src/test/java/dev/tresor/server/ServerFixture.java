package dev.tresor.server;

import dev.tresor.ca.CertificateAuthority;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/**
 * A real Tresor server for tests: its own test PKI for TLS (independent of the production CA
 * code), a fresh store (SQLite file or a fresh PostgreSQL database), real TLS on a free port, and
 * an admin client. Tests talk to it with {@link #call} exactly as a workload would.
 *
 * <p>The built-in CA behind {@code POST /v1/ca/sign} must carry a {@code spiffe://} trust-domain
 * SAN, which the test PKI's CA does not, so the fixture also makes a production CA
 * ({@code issuer.crt}/{@code issuer.key}) for the trust domain; the API trusts client
 * certificates of both CAs, so a certificate the server signs can be used against it.
 *
 * <p>The server runs on a {@link TestClock}: tests move time forward instead of sleeping.
 */
public final class ServerFixture implements AutoCloseable {

    public enum StoreKind { SQLITE, POSTGRESQL }

    public static final String TRUST_DOMAIN = "tresor.test";
    public static final String ADMIN_IDENTITY = "spiffe://" + TRUST_DOMAIN + "/client/admin";

    /** Config knobs tests need; null means the fixture's default. {@code extraSinks}: YAML list items after the file sink. */
    public record Options(String auditWriteTimeout, String auditFsyncInterval, Integer maxBodyBytes, Integer maxConnections,
                          String extraSinks, Integer joinAttemptsPerMinute) {
        public Options(String auditWriteTimeout, String auditFsyncInterval, Integer maxBodyBytes, Integer maxConnections,
                       String extraSinks) {
            this(auditWriteTimeout, auditFsyncInterval, maxBodyBytes, maxConnections, extraSinks, null);
        }

        public Options(String auditWriteTimeout, String auditFsyncInterval, Integer maxBodyBytes, Integer maxConnections) {
            this(auditWriteTimeout, auditFsyncInterval, maxBodyBytes, maxConnections, null);
        }

        public static Options defaults() {
            return new Options(null, null, null, null, null, null);
        }
    }

    private final Path dir;
    private final TestPki pki;
    private final IssuedCert admin;
    private final StoreKind kind;
    private final PostgresDatabase pg;
    private final Options options;
    private final TestClock clock = new TestClock();
    private final X509Certificate issuerCa;
    private final Map<IssuedCert, HttpClient> clients = new IdentityHashMap<>();
    private TresorServer server;

    private ServerFixture(Path dir, StoreKind kind, Options options) {
        this.dir = dir;
        this.kind = kind;
        this.options = options;
        this.pki = TestPki.create("Tresor Test CA");
        this.pg = kind == StoreKind.POSTGRESQL ? EmbeddedPostgres.freshDatabase() : null;
        try {
            CertificateAuthority issuer = CertificateAuthority.create(TRUST_DOMAIN, Duration.ofDays(30), clock);
            LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
            issuer.save(dir.resolve("issuer.crt"), dir.resolve("issuer.key"), kek);
            this.issuerCa = issuer.certificate();
            Files.writeString(dir.resolve("clients-ca.crt"), TestPki.pem(pki.caCertificate()) + TestPki.pem(issuerCa));
            pki.server("localhost", "127.0.0.1").writePem(dir, "server");
            // Leaf then CA, as tresor init writes it: a workload may pin the CA (cert join --ca-fingerprint).
            Files.writeString(dir.resolve("server.crt"), TestPki.pem(pki.caCertificate()), java.nio.file.StandardOpenOption.APPEND);
            Files.setPosixFilePermissions(dir.resolve("kek.json"), PosixFilePermissions.fromString("rw-------"));
            Files.writeString(dir.resolve("tresor.yaml"), config());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.admin = pki.client(ADMIN_IDENTITY);
    }

    /** Creates the folder and starts the server; the admin client is registered. */
    public static ServerFixture start(Path dir, StoreKind kind) {
        return start(dir, kind, Options.defaults());
    }

    public static ServerFixture start(Path dir, StoreKind kind, Options options) {
        ServerFixture f = new ServerFixture(dir, kind, options);
        f.startServer();
        f.server.tresor().bootstrapAdmin("admin", ADMIN_IDENTITY);
        return f;
    }

    /** (Re)starts the server on the same folder and store. */
    public void startServer() {
        ServerSettings settings = ConfigLoader.load(dir.resolve("tresor.yaml"));
        server = TresorServer.start(settings, clock);
    }

    /** (Re)starts the server with the key provider's secrets (HSM PIN variable, AWS credentials) from {@code environment}. */
    public void startServer(Map<String, String> environment) {
        server = TresorServer.start(ConfigLoader.load(dir.resolve("tresor.yaml")), clock, environment);
    }

    /** (Re)starts the server as {@code tresor server --accept-rollback REASON} does. */
    public void startServer(String acceptRollback) {
        ServerSettings settings = ConfigLoader.load(dir.resolve("tresor.yaml")).withAcceptRollback(acceptRollback);
        server = TresorServer.start(settings, clock);
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
                : "  kind: postgresql\n  url: \"" + pg.jdbcUrl() + "\"\n  user: " + pg.user() + "\n  password: \""
                        + pg.password() + "\"\n";
        // Tests share one server and one source address: join attempts are limited per address,
        // so the fixture allows many unless a test asks for a limit.
        String limits = "limits:\n  joinAttemptsPerMinute: " + (options.joinAttemptsPerMinute() == null ? 10_000
                : options.joinAttemptsPerMinute()) + "\n"
                + (options.maxBodyBytes() == null ? "" : "  maxBodyBytes: " + options.maxBodyBytes() + "\n")
                + (options.maxConnections() == null ? "" : "  maxConnections: " + options.maxConnections() + "\n");
        return """
                trustDomain: %s
                listen:
                  api: "127.0.0.1:0"
                  management: "127.0.0.1:0"
                  join: "127.0.0.1:0"
                tls:
                  cert: server.crt
                  key: server.key
                  clientCa: clients-ca.crt
                ca:
                  cert: issuer.crt
                  key: issuer.key
                  defaultTtl: 24h
                  maxTtl: 7d
                store:
                %skeyProvider:
                  kind: local
                  path: kek.json
                audit:
                  writeTimeout: %s
                  fsyncInterval: %s
                  sinks:
                    - kind: file
                      path: audit.log
                %s%s""".formatted(TRUST_DOMAIN, store,
                options.auditWriteTimeout() == null ? "2s" : options.auditWriteTimeout(),
                options.auditFsyncInterval() == null ? "20ms" : options.auditFsyncInterval(),
                options.extraSinks() == null ? "" : options.extraSinks(), limits);
    }

    public TresorServer server() {
        return server;
    }

    public Path dir() {
        return dir;
    }

    public Path auditFile() {
        return dir.resolve("audit.log");
    }

    public TestPki pki() {
        return pki;
    }

    public TestClock clock() {
        return clock;
    }

    /** The certificate of the built-in (production) CA behind {@code POST /v1/ca/sign}. */
    public X509Certificate issuerCa() {
        return issuerCa;
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

    public int apiPort() {
        return server.apiPort();
    }

    public URI api(String path) {
        return URI.create("https://localhost:" + server.apiPort() + path);
    }

    /** The join port (TLS without client certificates, POST /v1/join only). */
    public URI join(String path) {
        return URI.create("https://localhost:" + server.joinPort() + path);
    }

    public URI management(String path) {
        return URI.create("http://127.0.0.1:" + server.managementPort() + path);
    }

    /** A TLS context presenting {@code cert} and trusting the server's certificate. */
    public SSLContext sslContext(IssuedCert cert) {
        return cert.sslContext(pki.caCertificate());
    }

    /** One HTTP client per certificate, closed with the fixture. */
    public synchronized HttpClient client(IssuedCert cert) {
        return clients.computeIfAbsent(cert, c -> Tls.mtlsHttpClient(sslContext(c)));
    }

    /** Sends a request as {@code cert}; body may be null (sent as JSON otherwise). */
    public HttpResponse<String> call(IssuedCert cert, String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(api(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return send(cert, b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public <T> HttpResponse<T> send(IssuedCert cert, HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return client(cert).send(request, handler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends a hand-written request on a fresh TLS connection (for requests HttpClient will not send). */
    public RawHttp.Reply raw(IssuedCert cert, String method, String target, Map<String, String> headers, byte[] body) {
        return RawHttp.send(sslContext(cert), "localhost", server.apiPort(), method, target, headers, body);
    }

    /** Plain HTTP GET on the management port. */
    public HttpResponse<String> management(String method, String path) {
        try (HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            return plain.send(HttpRequest.newBuilder(management(path)).timeout(Duration.ofSeconds(30))
                    .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The audit log's lines as text (the file is JSON Lines). */
    public List<String> auditLines() {
        try {
            return Files.readAllLines(auditFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            clients.values().forEach(HttpClient::close);
            clients.clear();
        }
        stopServer();
    }
}
