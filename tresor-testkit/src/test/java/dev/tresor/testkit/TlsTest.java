package dev.tresor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real handshakes between JDK sockets using {@link TestPki} material, checked on both ends. */
class TlsTest {

    private static final String SPIFFE_ID = "spiffe://tresor.local/ns/payments/sa/billing";

    private final TestPki pki = TestPki.create("Tresor Test CA");
    private final TestPki otherPki = TestPki.create("Some Other CA");
    private EchoServer server;

    @BeforeEach
    void startServer() throws IOException {
        server = new EchoServer(pki.server("localhost", "127.0.0.1").sslContext(pki.caCertificate()));
    }

    @AfterEach
    void stopServer() throws IOException {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mutualTlsSucceedsForAClientOfTheSameCa(String protocol) throws Exception {
        SSLContext client = pki.client(SPIFFE_ID).sslContext(pki.caCertificate());

        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), client, protocol)) {
            assertThat(handshake.failure()).isNull();
            assertThat(handshake.succeeded()).isTrue();
            assertThat(handshake.protocol()).isEqualTo(protocol);
            assertThat(handshake.cipherSuite()).isNotBlank();
            handshake.socket().getOutputStream().write('x');
            handshake.socket().getOutputStream().flush();
            assertThat(handshake.socket().getInputStream().read()).isEqualTo('x');
        }

        ServerSide seen = server.nextOutcome();
        assertThat(seen.failure()).isNull();
        assertThat(seen.protocol()).isEqualTo(protocol);
        assertThat(seen.clientCertificate().getSubjectAlternativeNames()).containsExactly(java.util.List.of(6, SPIFFE_ID));
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void serverRefusesAClientFromAnotherCa(String protocol) throws Exception {
        // The impostor trusts our CA, so only the server's check of the client certificate can stop it.
        SSLContext impostor = otherPki.client(SPIFFE_ID).sslContext(pki.caCertificate());

        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), impostor, protocol)) {
            assertThat(handshake.succeeded()).as("handshake of a client from another CA").isFalse();
            assertThat(handshake.socket()).isNull();
        }
        // The foreign certificate was really presented and rejected by the server's path
        // validation, not withheld by the client's key manager.
        assertThat(server.nextOutcome().failure()).hasMessageContaining("PKIX path building failed");
    }

    @Test
    void serverRefusesAnExpiredClientCertificate() throws Exception {
        Instant now = Instant.now();
        SSLContext expired = pki.client(SPIFFE_ID, now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)))
                .sslContext();

        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), expired)) {
            assertThat(handshake.succeeded()).isFalse();
        }
        assertThat(server.nextOutcome().failure()).hasMessageContaining("validity check failed");
    }

    @Test
    void serverRefusesAClientWithoutCertificate() throws Exception {
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("ca", pki.caCertificate());
        trust.init(anchors);
        SSLContext anonymous = SSLContext.getInstance("TLS");
        anonymous.init(null, trust.getTrustManagers(), null);

        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), anonymous)) {
            assertThat(handshake.succeeded()).isFalse();
        }
        assertThat(server.nextOutcome().failure()).hasMessageContaining("Empty client certificate chain");
    }

    @Test
    void clientRefusesAServerFromAnotherCa() throws Exception {
        SSLContext trustsOnlyOtherCa = pki.client(SPIFFE_ID).sslContext(otherPki.caCertificate());

        try (Tls.Handshake handshake = Tls.connect("localhost", server.port(), trustsOnlyOtherCa)) {
            assertThat(handshake.succeeded()).isFalse();
            assertThat(handshake.failure()).hasMessageContaining("PKIX");
        }
    }

    @Test
    void clientChecksTheServerNameLikeHttps() throws Exception {
        try (EchoServer wrongName = new EchoServer(pki.server("tresor.example").sslContext())) {
            SSLContext client = pki.client(SPIFFE_ID).sslContext();

            try (Tls.Handshake handshake = Tls.connect("127.0.0.1", wrongName.port(), client)) {
                assertThat(handshake.succeeded()).isFalse();
                assertThat(handshake.failure()).hasMessageContaining("127.0.0.1");
            }
        }
    }

    @Test
    void tlsV11IsReportedAsRefusedInsteadOfThrown() throws Exception {
        // The JDK refuses TLSv1.1 on the client side already (jdk.tls.disabledAlgorithms); the
        // helper must report that as an outcome rather than throw.
        SSLContext legacy = SSLContext.getInstance("TLSv1.1");
        legacy.init(null, null, null);
        SSLContext modern = pki.client(SPIFFE_ID).sslContext();

        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), legacy, "TLSv1.1")) {
            assertThat(handshake.succeeded()).isFalse();
            assertThat(handshake.protocol()).isNull();
            assertThat(handshake.failure()).isNotNull();
        }
        try (Tls.Handshake handshake = Tls.connect("127.0.0.1", server.port(), modern, "TLSv1.1")) {
            assertThat(handshake.succeeded()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.1", "TLSv1"})
    void rawClientHelloProvesTheServerItselfRefusesLegacyProtocols(String legacy) throws Exception {
        Tls.ClientHelloAnswer answer = Tls.sendRawClientHello("127.0.0.1", server.port(), legacy);

        assertThat(answer.accepted()).isFalse();
        assertThat(answer.outcome()).isEqualTo(Tls.ClientHelloAnswer.Outcome.ALERT);
        assertThat(answer.alert()).as("TLS alert description").isIn(70, 40); // protocol_version, handshake_failure
        assertThat(server.nextOutcome().failure()).isNotNull();
    }

    @Test
    void rawClientHelloForTlsV12IsAnsweredWithAServerHello() throws Exception {
        // Positive control: the hand-built hello is well-formed, so a refusal above means policy.
        Tls.ClientHelloAnswer answer = Tls.sendRawClientHello("127.0.0.1", server.port(), "TLSv1.2");

        assertThat(answer.accepted()).isTrue();
        assertThat(answer.protocol()).isEqualTo("TLSv1.2");
    }

    @Test
    void rawClientHelloRejectsTlsV13() {
        assertThatThrownBy(() -> Tls.sendRawClientHello("127.0.0.1", server.port(), "TLSv1.3"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mtlsHttpClientTalksToAnHttpsServerThatNeedsClientCertificates() throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(pki.server("localhost", "127.0.0.1").sslContext()) {
            @Override
            public void configure(HttpsParameters parameters) {
                SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
                ssl.setNeedClientAuth(true);
                parameters.setSSLParameters(ssl);
            }
        });
        https.createContext("/whoami", exchange -> {
            X509Certificate peer = (X509Certificate) ((HttpsExchange) exchange).getSSLSession().getPeerCertificates()[0];
            byte[] body;
            try {
                body = String.valueOf(peer.getSubjectAlternativeNames().iterator().next().get(1))
                        .getBytes(StandardCharsets.UTF_8);
            } catch (java.security.cert.CertificateParsingException e) {
                throw new IOException(e);
            }
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        https.start();
        try {
            URI uri = URI.create("https://localhost:" + https.getAddress().getPort() + "/whoami");
            try (HttpClient client = Tls.mtlsHttpClient(pki.client(SPIFFE_ID).sslContext())) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo(SPIFFE_ID);
                assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
                assertThat(client.connectTimeout()).contains(Duration.ofSeconds(5));
            }
            try (HttpClient impostor = Tls.mtlsHttpClient(otherPki.client(SPIFFE_ID).sslContext(pki.caCertificate()))) {
                assertThatThrownBy(() -> impostor.send(HttpRequest.newBuilder(uri).build(),
                        HttpResponse.BodyHandlers.ofString()))
                        .isInstanceOf(IOException.class);
            }
        } finally {
            https.stop(0);
        }
    }

    /** What the server saw of one connection. */
    record ServerSide(String protocol, X509Certificate clientCertificate, Exception failure) {
    }

    /**
     * A tiny mTLS server (needClientAuth) that echoes bytes and records each handshake's outcome,
     * so tests can check that a refusal really happened on the server side.
     */
    static final class EchoServer implements AutoCloseable {
        private final SSLServerSocket socket;
        private final BlockingQueue<ServerSide> outcomes = new LinkedBlockingQueue<>();
        private final Thread acceptor;

        EchoServer(SSLContext context) throws IOException {
            socket = (SSLServerSocket) context.getServerSocketFactory()
                    .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            socket.setNeedClientAuth(true);
            acceptor = Thread.ofVirtual().start(this::acceptLoop);
        }

        int port() {
            return socket.getLocalPort();
        }

        ServerSide nextOutcome() throws InterruptedException {
            ServerSide outcome = outcomes.poll(10, TimeUnit.SECONDS);
            assertThat(outcome).as("server saw a connection").isNotNull();
            return outcome;
        }

        private void acceptLoop() {
            while (!socket.isClosed()) {
                try {
                    SSLSocket connection = (SSLSocket) socket.accept();
                    Thread.ofVirtual().start(() -> serve(connection));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(SSLSocket connection) {
            try (connection) {
                try {
                    connection.setSoTimeout(10_000);
                    connection.startHandshake();
                    outcomes.add(new ServerSide(connection.getSession().getProtocol(),
                            (X509Certificate) connection.getSession().getPeerCertificates()[0], null));
                } catch (IOException refused) {
                    outcomes.add(new ServerSide(null, null, refused));
                    return;
                }
                InputStream in = connection.getInputStream();
                for (int b = in.read(); b >= 0; b = in.read()) {
                    connection.getOutputStream().write(b);
                    connection.getOutputStream().flush();
                }
            } catch (IOException clientWentAway) {
                // After a successful handshake only the echo can fail; nothing to record.
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            acceptor.interrupt();
        }
    }
}
