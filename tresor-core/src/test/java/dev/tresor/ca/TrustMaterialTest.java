package dev.tresor.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustMaterialTest {

    private static final String WORKLOAD = "spiffe://tresor.local/ns/openemr/sa/openemr";

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final CertificateAuthority ca = CertificateAuthority.create("tresor.local", Duration.ofDays(30), Clock.systemUTC());
    private Path caBundle;
    private Path serverCert;
    private Path serverKey;
    private Path clientCert;
    private Path clientKey;

    @BeforeEach
    void writeMaterial() {
        caBundle = dir.resolve("ca.pem");
        Pem.writeCertificates(caBundle, List.of(ca.certificate()));
        KeyPair server = KeyPairs.generateP256();
        serverCert = dir.resolve("server.pem");
        serverKey = dir.resolve("server-key.pem");
        Pem.writeCertificates(serverCert, ca.issueServer(server.getPublic(), List.of("localhost", "127.0.0.1"),
                Duration.ofHours(1)).chain());
        Pem.writePrivateKey(serverKey, server.getPrivate());
        KeyPair client = KeyPairs.generateP256();
        clientCert = dir.resolve("client.pem");
        clientKey = dir.resolve("client-key.pem");
        Pem.writeCertificates(clientCert, ca.signCsr(CsrBuilder.create(client, WORKLOAD), WORKLOAD, Duration.ofHours(1)).chain());
        Pem.writePrivateKey(clientKey, client.getPrivate());
    }

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    @Test
    void tls13HandshakeWithClientCertificateRevealsTheIdentity() throws Exception {
        SSLContext server = TrustMaterial.serverContext(serverCert, serverKey, caBundle);
        SSLContext client = TrustMaterial.clientContext(clientCert, clientKey, caBundle);

        Outcome outcome = handshake(server, client, socket -> { });

        assertThat(outcome.clientFailure()).isNull();
        assertThat(outcome.serverFailure()).isNull();
        assertThat(outcome.serverIdentity()).isEqualTo(WORKLOAD);
        assertThat(outcome.protocol()).isEqualTo("TLSv1.3");
        assertThat(Identities.identityOf(outcome.serverCertificate())).isEqualTo("localhost");
    }

    @Test
    void tls12IsStillAccepted() throws Exception {
        SSLContext server = TrustMaterial.serverContext(serverCert, serverKey, caBundle);
        SSLContext client = TrustMaterial.clientContext(clientCert, clientKey, caBundle);

        Outcome outcome = handshake(server, client, socket -> socket.setEnabledProtocols(new String[] {"TLSv1.2"}));

        assertThat(outcome.clientFailure()).isNull();
        assertThat(outcome.serverIdentity()).isEqualTo(WORKLOAD);
        assertThat(outcome.protocol()).isEqualTo("TLSv1.2");
    }

    @Test
    void serverRefusesClientsOfAnotherCaAndClientsWithoutCertificate() throws Exception {
        SSLContext server = TrustMaterial.serverContext(serverCert, serverKey, caBundle);

        CertificateAuthority otherCa = CertificateAuthority.create("tresor.local", Duration.ofDays(1), Clock.systemUTC());
        KeyPair intruder = KeyPairs.generateP256();
        IssuedCertificate forged = otherCa.issueClient(intruder.getPublic(), WORKLOAD, Duration.ofHours(1));
        SSLContext intruderContext = TrustMaterial.clientContext(
                TrustMaterial.keyStore(forged.chain(), intruder.getPrivate(), "pw".toCharArray()), "pw".toCharArray(),
                TrustMaterial.trustStore(caBundle));
        assertServerRefuses(server, intruderContext);

        TrustManagerFactory trustOnly = TrustManagerFactory.getInstance("PKIX");
        trustOnly.init(TrustMaterial.trustStore(caBundle));
        SSLContext anonymous = SSLContext.getInstance("TLS");
        anonymous.init(null, trustOnly.getTrustManagers(), null);
        assertServerRefuses(server, anonymous);
    }

    @Test
    void clientRefusesServersOfAnotherCa() throws Exception {
        CertificateAuthority otherCa = CertificateAuthority.create("tresor.local", Duration.ofDays(1), Clock.systemUTC());
        KeyPair impostor = KeyPairs.generateP256();
        IssuedCertificate impostorCert = otherCa.issueServer(impostor.getPublic(), List.of("127.0.0.1"), Duration.ofHours(1));
        SSLContext impostorServer = TrustMaterial.serverContext(
                TrustMaterial.keyStore(impostorCert.chain(), impostor.getPrivate(), "pw".toCharArray()), "pw".toCharArray(),
                TrustMaterial.trustStore(caBundle));
        SSLContext client = TrustMaterial.clientContext(clientCert, clientKey, caBundle);
        Outcome outcome = handshake(impostorServer, client, socket -> { });
        assertThat(outcome.clientFailure()).isInstanceOf(SSLException.class);
        assertThat(outcome.serverIdentity()).isNull();
    }

    @Test
    void contextsEnableOnlyTls13And12AndServersRequireClientCertificates() throws Exception {
        SSLContext server = TrustMaterial.serverContext(serverCert, serverKey, caBundle);
        SSLContext client = TrustMaterial.clientContext(clientCert, clientKey, caBundle);

        SSLParameters serverDefaults = server.getDefaultSSLParameters();
        assertThat(serverDefaults.getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(serverDefaults.getNeedClientAuth()).isTrue();
        assertThat(client.getDefaultSSLParameters().getProtocols()).containsExactly("TLSv1.3", "TLSv1.2");

        SSLEngine engine = server.createSSLEngine();
        engine.setUseClientMode(false);
        assertThat(engine.getEnabledProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(engine.getNeedClientAuth()).isTrue();

        try (SSLServerSocket socket = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0)) {
            assertThat(socket.getEnabledProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
            assertThat(socket.getNeedClientAuth()).isTrue();
        }
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket()) {
            assertThat(socket.getEnabledProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        }
        assertThatThrownBy(() -> server.init(null, null, null)).hasMessageContaining("cannot be re-initialised");
    }

    @Test
    void keyStoreRefusesAKeyOfAnotherCertificate() {
        assertThatThrownBy(() -> TrustMaterial.keyStore(serverCert, clientKey, "pw".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(serverCert.toString())
                .hasMessageContaining("does not belong");
    }

    @Test
    void keyStoreRefusesAChainOutOfOrder() {
        List<X509Certificate> chain = Pem.readCertificates(clientCert);
        KeyPair key = KeyPairs.generateP256();
        List<X509Certificate> reversed = List.of(chain.get(1), chain.get(0));
        assertThatThrownBy(() -> TrustMaterial.keyStore(reversed, key.getPrivate(), "pw".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class);
        IssuedCertificate issued = ca.issueClient(key.getPublic(), "bob", Duration.ofHours(1));
        List<X509Certificate> doubled = List.of(issued.certificate(), issued.certificate());
        assertThatThrownBy(() -> TrustMaterial.keyStore(doubled, key.getPrivate(), "pw".toCharArray()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leaf-first order");
    }

    @Test
    void trustStoreRefusesLeafCertificates() {
        assertThatThrownBy(() -> TrustMaterial.trustStore(clientCert))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(clientCert.toString())
                .hasMessageContaining("not a CA certificate");
    }

    private void assertServerRefuses(SSLContext server, SSLContext client) throws Exception {
        Outcome outcome = handshake(server, client, socket -> { });
        assertThat(outcome.serverFailure()).isInstanceOf(SSLException.class);
        assertThat(outcome.serverIdentity()).isNull();
        assertThat(outcome.clientFailure()).as("the client must not get an answer").isNotNull();
    }

    /** What each side of one connection saw; exactly one of identity/failure is set per side. */
    private record Outcome(String serverIdentity, Throwable serverFailure,
                           String protocol, X509Certificate serverCertificate, Throwable clientFailure) {}

    /**
     * Runs a TLS server on the loopback interface for one connection, connects a client to it and
     * returns what both sides saw. The server requires client certificates explicitly, as Tresor's API does.
     */
    private Outcome handshake(SSLContext server, SSLContext client, Consumer<SSLSocket> clientSetup) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            Future<String> serverSide = executor.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(10_000);
                    accepted.startHandshake();
                    X509Certificate peer = (X509Certificate) accepted.getSession().getPeerCertificates()[0];
                    String identity = Identities.identityOf(peer);
                    accepted.getOutputStream().write(42);
                    accepted.getOutputStream().flush();
                    return identity;
                }
            });
            String protocol = null;
            X509Certificate serverCertificate = null;
            Throwable clientFailure = null;
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                SSLParameters parameters = socket.getSSLParameters();
                // Also proves the server certificate's IP SAN works for HTTPS-style host name checks.
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                clientSetup.accept(socket);
                socket.startHandshake();
                protocol = socket.getSession().getProtocol();
                serverCertificate = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                // TLS 1.3 clients finish their handshake before the server judges their certificate:
                // only reading the server's answer shows whether the connection was really accepted.
                int answer = socket.getInputStream().read();
                if (answer != 42) {
                    throw new SSLException("server closed the connection without answering");
                }
            } catch (Exception e) {
                clientFailure = e;
            }
            try {
                return new Outcome(serverSide.get(10, TimeUnit.SECONDS), null, protocol, serverCertificate, clientFailure);
            } catch (ExecutionException e) {
                return new Outcome(null, e.getCause(), protocol, serverCertificate, clientFailure);
            }
        }
    }
}
