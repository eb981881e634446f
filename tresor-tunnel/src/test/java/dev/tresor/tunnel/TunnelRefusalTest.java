package dev.tresor.tunnel;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.tunnel.config.HostPort;
import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelsConfig;
import dev.tresor.tunnel.proxy.Tunnel;
import dev.tresor.tunnel.proxy.TunnelRuntime;
import dev.tresor.tunnel.tls.Refusal;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who a server tunnel lets in, who a client tunnel accepts as server, and how refusals are counted. */
class TunnelRefusalTest {

    @TempDir
    Path dir;

    private Fixture fixture;
    private EchoServer echo;

    @BeforeEach
    void setUp() throws IOException {
        fixture = new Fixture(dir);
        echo = new EchoServer();
    }

    @AfterEach
    void tearDown() throws IOException {
        fixture.close();
        echo.close();
    }

    /** Connects straight to a server tunnel with {@code cert}, sends a line and returns what came back. */
    private static String talk(SSLContext context, int port, String message) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            socket.getOutputStream().write(message.getBytes(StandardCharsets.UTF_8));
            byte[] reply = socket.getInputStream().readNBytes(message.length());
            if (reply.length < message.length()) {
                throw new IOException("connection closed after " + reply.length + " bytes");
            }
            return new String(reply, StandardCharsets.UTF_8);
        }
    }

    private void assertRefused(Tunnel tunnel, IssuedCert cert, Refusal reason) throws Exception {
        double before = tunnel.metrics().refusedCount(reason);
        // The test side trusts the tunnel's CA, so whatever fails is the tunnel refusing this certificate.
        SSLContext context = cert.sslContext(fixture.pki.ca().caCertificate());
        assertThatThrownBy(() -> talk(context, tunnel.port(), "hello")).isInstanceOf(IOException.class);
        Await.until("a refusal counted as " + reason, Duration.ofSeconds(10),
                () -> tunnel.metrics().refusedCount(reason) > before);
    }

    @Test
    void serverAdmitsOnlyAllowedValidTrustedUnrevokedIdentities() throws Exception {
        IssuedCert revoked = fixture.pki.workload(Fixture.APP);
        Path crl = WorkloadPki.writeCrl(dir.resolve("ca.crl"), fixture.pki.crl(revoked.certificate()));
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP, "spiffe://tresor.local/ns/ops/*"), crl);

        assertThat(talk(fixture.pki.workload(Fixture.APP).sslContext(), server.port(), "hello")).isEqualTo("hello");
        assertThat(talk(fixture.pki.workload("spiffe://tresor.local/ns/ops/backup").sslContext(), server.port(), "hi"))
                .isEqualTo("hi");
        assertThat(server.metrics().acceptedCount()).isEqualTo(2);

        assertRefused(server, fixture.pki.workload("spiffe://tresor.local/ns/other/sa/intruder"), Refusal.IDENTITY_NOT_ALLOWED);
        assertRefused(server, fixture.pki.workload("spiffe://tresor.local/ns/ops/a/b"), Refusal.IDENTITY_NOT_ALLOWED);
        Instant now = Instant.now();
        assertRefused(server, fixture.pki.workload(Fixture.APP, now.minusSeconds(7200), now.minusSeconds(60)), Refusal.EXPIRED);
        assertRefused(server, fixture.pki.workload(Fixture.APP, now.plusSeconds(3600), now.plusSeconds(7200)),
                Refusal.NOT_YET_VALID);
        assertRefused(server, revoked, Refusal.REVOKED);
        assertRefused(server, WorkloadPki.create("Other CA").workload(Fixture.APP), Refusal.UNTRUSTED);
        assertRefused(server, fixture.pki.ca().client("plain-cn-client"), Refusal.NO_IDENTITY);
        assertThat(server.metrics().acceptedCount()).isEqualTo(2);
    }

    @Test
    void tls13AndTls12AreAccepted() throws Exception {
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP), null);
        SSLContext app = fixture.pki.workload(Fixture.APP).sslContext();
        for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
            try (SSLSocket socket = (SSLSocket) app.getSocketFactory().createSocket("127.0.0.1", server.port())) {
                socket.setEnabledProtocols(new String[] {protocol});
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write("v".getBytes());
                assertThat(socket.getInputStream().read()).isEqualTo('v');
                assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
            }
        }
        assertThat(server.metrics().acceptedCount()).isEqualTo(2);
    }

    @Test
    void aPeerWithoutCertificateIsRefusedAtTheHandshake() throws Exception {
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP), null);
        SSLContext anonymous = SSLContext.getInstance("TLS");
        anonymous.init(null, new javax.net.ssl.TrustManager[] {trustAll()}, null);
        assertThatThrownBy(() -> talk(anonymous, server.port(), "hello")).isInstanceOf(IOException.class);
        Await.until("handshake_failed counted", Duration.ofSeconds(10),
                () -> server.metrics().refusedCount(Refusal.HANDSHAKE_FAILED) == 1);
        // Plain TCP speaking no TLS at all.
        try (Socket plain = new Socket("127.0.0.1", server.port())) {
            plain.getOutputStream().write("PING\r\n".getBytes());
            plain.setSoTimeout(10_000);
            assertThat(plain.getInputStream().read(new byte[100])).isNotEqualTo(6);
        }
        Await.until("plain TCP counted", Duration.ofSeconds(10),
                () -> server.metrics().refusedCount(Refusal.HANDSHAKE_FAILED) == 2);
    }

    private static javax.net.ssl.X509TrustManager trustAll() {
        return new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        };
    }

    @Test
    void aCrlWrittenLaterAppliesToTheNextConnection() throws Exception {
        IssuedCert app = fixture.pki.workload(Fixture.APP);
        Path crl = WorkloadPki.writeCrl(dir.resolve("ca.crl"), fixture.pki.crl());
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP), crl);
        assertThat(talk(app.sslContext(), server.port(), "before")).isEqualTo("before");

        WorkloadPki.writeCrl(crl, fixture.pki.crl(app.certificate()));
        Await.until("the new CRL refuses the certificate", Duration.ofSeconds(10), () -> {
            try {
                talk(app.sslContext(), server.port(), "after");
                return false;
            } catch (IOException refused) {
                return server.metrics().refusedCount(Refusal.REVOKED) > 0;
            }
        });
        // A CRL signed by another CA is refused at reload; the previous one stays in effect.
        double refusedBefore = server.metrics().reloadCount("crl", "failed");
        WorkloadPki.writeCrl(crl, WorkloadPki.create("Other CA").crl());
        Await.until("the foreign CRL refused at reload", java.time.Duration.ofSeconds(20),
                () -> server.metrics().reloadCount("crl", "failed") > refusedBefore);
        assertThatThrownBy(() -> talk(app.sslContext(), server.port(), "still")).isInstanceOf(IOException.class);
    }

    @Test
    void aNewCrlClosesTheOpenConnectionOfTheRevokedPeerAndOnlyThatOne() throws Exception {
        IssuedCert app = fixture.pki.workload(Fixture.APP);
        IssuedCert ops = fixture.pki.workload("spiffe://tresor.local/ns/ops/backup");
        Path crl = WorkloadPki.writeCrl(dir.resolve("ca.crl"), fixture.pki.crl());
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP, "spiffe://tresor.local/ns/ops/*"), crl);
        try (SSLSocket revoked = open(app.sslContext(), server.port()); SSLSocket kept = open(ops.sslContext(), server.port())) {
            assertThat(echoOn(revoked, "one")).isEqualTo("one");
            assertThat(echoOn(kept, "one")).isEqualTo("one");

            WorkloadPki.writeCrl(crl, fixture.pki.crl(app.certificate()));
            Await.until("the revoked peer's open connection is closed", Duration.ofSeconds(20), () -> {
                try {
                    echoOn(revoked, "x");
                    return false;
                } catch (IOException closed) {
                    return true;
                }
            });
            assertThat(echoOn(kept, "two")).as("the other peer's connection goes on").isEqualTo("two");
        }
    }

    private static SSLSocket open(SSLContext context, int port) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /** Sends {@code message} on an open connection and reads its echo; IOException once the tunnel closed it. */
    private static String echoOn(SSLSocket socket, String message) throws IOException {
        socket.getOutputStream().write(message.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
        byte[] reply = socket.getInputStream().readNBytes(message.length());
        if (reply.length < message.length()) {
            throw new IOException("connection closed after " + reply.length + " bytes");
        }
        return new String(reply, StandardCharsets.UTF_8);
    }

    @Test
    void clientRefusesAServerWithTheWrongIdentity() throws Exception {
        Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP), null);
        Tunnel wrong = fixture.client(server.port(), List.of("spiffe://tresor.local/ns/openemr/sa/redis"));
        try (Socket app = new Socket("127.0.0.1", wrong.port())) {
            app.setSoTimeout(10_000);
            app.getOutputStream().write("hello".getBytes());
            InputStream in = app.getInputStream();
            // The tunnel closes the app's connection without forwarding anything.
            assertThat(readOrReset(in)).isEqualTo(-1);
        }
        Await.until("identity_not_allowed counted on the client", Duration.ofSeconds(10),
                () -> wrong.metrics().refusedCount(Refusal.IDENTITY_NOT_ALLOWED) == 1);

        Tunnel right = fixture.client(server.port(), List.of(Fixture.DB));
        try (Socket app = new Socket("127.0.0.1", right.port())) {
            app.setSoTimeout(10_000);
            app.getOutputStream().write("hello".getBytes());
            assertThat(new String(app.getInputStream().readNBytes(5))).isEqualTo("hello");
        }
    }

    private static int readOrReset(InputStream in) {
        try {
            return in.read();
        } catch (IOException reset) {
            return -1;
        }
    }

    @Test
    void maxConnectionsRefusesTheOneTooMany() throws Exception {
        var spec = Fixture.spec("db", Mode.SERVER, 0, echo.port(), List.of(Fixture.APP), fixture.serverFiles,
                fixture.caFile, null);
        spec = new dev.tresor.tunnel.config.TunnelSpec(spec.name(), spec.mode(), spec.listen(), spec.target(), spec.peers(),
                spec.cert(), spec.key(), spec.caBundle(), spec.crl(), spec.connectTimeout(), spec.handshakeTimeout(),
                spec.idleTimeout(), 1, null, List.of());
        Tunnel server = fixture.run(spec).tunnels().getFirst();
        SSLContext app = fixture.pki.workload(Fixture.APP).sslContext();
        try (SSLSocket first = (SSLSocket) app.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            first.setSoTimeout(10_000);
            first.getOutputStream().write("one".getBytes());
            assertThat(new String(first.getInputStream().readNBytes(3))).isEqualTo("one");
            assertThatThrownBy(() -> talk(app, server.port(), "two")).isInstanceOf(IOException.class);
            assertThat(server.metrics().refusedCount(Refusal.MAX_CONNECTIONS)).isEqualTo(1);
        }
        Await.until("the slot is free again", Duration.ofSeconds(10), () -> server.connections().isEmpty());
        assertThat(talk(app, server.port(), "three")).isEqualTo("three");
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        var base = Fixture.spec("db", Mode.SERVER, 0, echo.port(), List.of(Fixture.APP), fixture.serverFiles,
                fixture.caFile, null);
        var spec = new dev.tresor.tunnel.config.TunnelSpec(base.name(), base.mode(), base.listen(), base.target(),
                base.peers(), base.cert(), base.key(), base.caBundle(), base.crl(), base.connectTimeout(),
                base.handshakeTimeout(), Duration.ofMillis(300), 10, null, List.of());
        Tunnel server = fixture.run(spec).tunnels().getFirst();
        try (SSLSocket socket = (SSLSocket) fixture.pki.workload(Fixture.APP).sslContext().getSocketFactory()
                .createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("x".getBytes());
            assertThat(socket.getInputStream().read()).isEqualTo('x');
            // Nothing more either way: the tunnel closes it after the idle timeout.
            assertThat(readOrReset(socket.getInputStream())).isEqualTo(-1);
        }
        Await.until("the idle connection is gone", Duration.ofSeconds(10), () -> server.connections().isEmpty());
        assertThat(server.metrics().open()).isZero();
    }

    @Test
    void managementPortServesHealthAndMetricsByReason() throws Exception {
        var spec = Fixture.spec("db", Mode.SERVER, 0, echo.port(), List.of(Fixture.APP), fixture.serverFiles,
                fixture.caFile, null);
        TunnelRuntime runtime = fixture.run(new TunnelsConfig(new HostPort("127.0.0.1", 0), Duration.ofSeconds(5),
                Duration.ofMillis(100), List.of(spec)));
        Tunnel server = runtime.tunnels().getFirst();
        assertThat(talk(fixture.pki.workload(Fixture.APP).sslContext(), server.port(), "ok")).isEqualTo("ok");
        assertRefused(server, fixture.pki.workload("spiffe://tresor.local/ns/x/sa/y"), Refusal.IDENTITY_NOT_ALLOWED);

        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + runtime.managementPort();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics)
                .contains("tresor_tunnel_connections_refused_total{reason=\"identity_not_allowed\",tunnel=\"db\"} 1.0")
                .contains("tresor_tunnel_connections_accepted_total{tunnel=\"db\"} 1.0")
                .contains("tresor_tunnel_bytes_total{direction=\"in\",tunnel=\"db\"} 2.0")
                .contains("tresor_tunnel_connections_open{tunnel=\"db\"}");
    }

    @Test
    void aServerCertificateWithoutServerAuthIsRefusedByTheClient() throws Exception {
        // TestPki client certificates carry clientAuth only: not a server certificate.
        IssuedCert.PemFiles clientOnly = WorkloadPki.write(dir, "clientonly", fixture.pki.ca().client(Fixture.DB));
        Tunnel server = fixture.run(Fixture.spec("db", Mode.SERVER, 0, echo.port(), List.of(Fixture.APP), clientOnly,
                fixture.caFile, null)).tunnels().getFirst();
        Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
        try (Socket app = new Socket("127.0.0.1", client.port())) {
            app.setSoTimeout(10_000);
            app.getOutputStream().write("hello".getBytes());
            assertThat(readOrReset(app.getInputStream())).isEqualTo(-1);
        }
        Await.until("untrusted counted on the client", Duration.ofSeconds(10),
                () -> client.metrics().refusedCount(Refusal.UNTRUSTED) == 1);
    }
}
