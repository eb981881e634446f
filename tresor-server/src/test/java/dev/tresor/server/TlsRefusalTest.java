package dev.tresor.server;

import dev.tresor.testkit.Await;
import static dev.tresor.server.Replies.error;
import static dev.tresor.server.Replies.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import dev.tresor.testkit.Tls;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The API port speaks only mutual TLS 1.3/1.2 with certificates of the configured CAs: every
 * other handshake is refused by the server (not merely by the test's client), counted and
 * audited; a valid certificate of an unregistered identity gets a JSON 401.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsRefusalTest {

    private ServerFixture f;
    private Path dir;

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("tresor-tls-");
        f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
    }

    @AfterAll
    void stop() throws IOException {
        f.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private Tls.Handshake connect(SSLContext ctx, String protocol) throws IOException {
        return Tls.connect("localhost", f.apiPort(), ctx, protocol);
    }

    /** Trusts the server but has no key material at all. */
    private SSLContext noCertificate() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", f.pki().caCertificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aValidCertificateCompletesTheHandshake(String protocol) throws Exception {
        try (Tls.Handshake h = connect(f.sslContext(f.admin()), protocol)) {
            assertThat(h.succeeded()).as("handshake: %s", h.failure()).isTrue();
            assertThat(h.protocol()).isEqualTo(protocol);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void noClientCertificateIsRefused(String protocol) throws Exception {
        try (Tls.Handshake h = connect(noCertificate(), protocol)) {
            assertThat(h.succeeded()).isFalse();
        }
    }

    /** TLS 1.2 is offered only with AEAD suites: a client that can do nothing but CBC is refused. */
    @Test
    void aTls12ClientOfferingOnlyCbcSuitesIsRefused() throws Exception {
        String[] cbcOnly = {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"};
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) f.sslContext(f.admin()).getSocketFactory()
                .createSocket("localhost", f.apiPort())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setEnabledCipherSuites(cbcOnly);
            assertThatThrownBy(socket::startHandshake).isInstanceOf(IOException.class);
        }
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) f.sslContext(f.admin()).getSocketFactory()
                .createSocket("localhost", f.apiPort())) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setEnabledCipherSuites(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
            socket.startHandshake();
            assertThat(socket.getSession().getCipherSuite()).contains("_GCM_");
        }
    }

    @Test
    void anHttpClientWithoutACertificateGetsNoAnswer() throws Exception {
        try (HttpClient client = Tls.mtlsHttpClient(noCertificate())) {
            assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(f.api("/v1/whoami")).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aCertificateFromAnotherCaIsRefusedEvenWithTheAdminIdentity(String protocol) throws Exception {
        IssuedCert forged = TestPki.create("Tresor Test CA").client(ServerFixture.ADMIN_IDENTITY);
        try (Tls.Handshake h = connect(forged.sslContext(f.pki().caCertificate()), protocol)) {
            assertThat(h.succeeded()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void anExpiredOrNotYetValidCertificateIsRefused(String protocol) throws Exception {
        Instant now = Instant.now();
        IssuedCert expired = f.pki().client(ServerFixture.ADMIN_IDENTITY, now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)));
        try (Tls.Handshake h = connect(f.sslContext(expired), protocol)) {
            assertThat(h.succeeded()).isFalse();
        }
        IssuedCert early = f.pki().client(ServerFixture.ADMIN_IDENTITY, now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(10)));
        try (Tls.Handshake h = connect(f.sslContext(early), protocol)) {
            assertThat(h.succeeded()).isFalse();
        }
    }

    @Test
    void tls11AndOlderAreRefusedByTheServer() throws IOException {
        Tls.ClientHelloAnswer control = Tls.sendRawClientHello("127.0.0.1", f.apiPort(), "TLSv1.2");
        assertThat(control.accepted()).as("the probe itself works: TLSv1.2 gets a ServerHello").isTrue();
        assertThat(control.protocol()).isEqualTo("TLSv1.2");
        for (String old : List.of("TLSv1.1", "TLSv1")) {
            Tls.ClientHelloAnswer answer = Tls.sendRawClientHello("127.0.0.1", f.apiPort(), old);
            assertThat(answer.accepted()).as("%s answer %s", old, answer).isFalse();
            if (answer.outcome() == Tls.ClientHelloAnswer.Outcome.ALERT) {
                assertThat(answer.alert()).as("alert for %s", old).isIn(70, 40); // protocol_version / handshake_failure
            }
        }
    }

    @Test
    void aValidCertificateOfAnUnknownIdentityGetsJson401AndIsAudited() {
        IssuedCert stranger = f.pki().client("spiffe://" + ServerFixture.TRUST_DOMAIN + "/ns/x/sa/stranger");
        HttpResponse<String> r = f.call(stranger, "GET", "/v1/whoami", null);
        String message = error(r, 401);
        assertThat(message).contains("not a registered client");
        error(f.call(stranger, "GET", "/v1/secrets/anything", null), 401);
        error(f.call(stranger, "POST", "/v1/ca/sign", "{}"), 401);

        JsonNode record = auditRecord(r.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(record.get("outcome").asText()).isEqualTo("denied");
        assertThat(record.get("status").asInt()).isEqualTo(401);
        assertThat(record.get("client").asText()).isEqualTo("spiffe://" + ServerFixture.TRUST_DOMAIN + "/ns/x/sa/stranger");
    }

    @Test
    void commonNameIdentitiesWorkWhenRegistered() {
        IssuedCert cnOnly = f.pki().client("legacy-batch-job");
        error(f.call(cnOnly, "GET", "/v1/whoami", null), 401);
        ok(f.call(f.admin(), "POST", "/v1/clients", "{\"name\":\"legacy\",\"identity\":\"legacy-batch-job\"}"), 201);
        JsonNode me = ok(f.call(cnOnly, "GET", "/v1/whoami", null), 200);
        assertThat(me.get("name").asText()).isEqualTo("legacy");
        assertThat(me.get("identity").asText()).isEqualTo("legacy-batch-job");
    }

    @Test
    void refusedHandshakesAreCountedAndAudited() throws Exception {
        double before = handshakeFailures();
        try (Tls.Handshake h = connect(noCertificate(), "TLSv1.3")) {
            assertThat(h.succeeded()).isFalse();
        }
        IssuedCert forged = TestPki.create("Elsewhere").client(ServerFixture.ADMIN_IDENTITY);
        try (Tls.Handshake h = connect(forged.sslContext(f.pki().caCertificate()), "TLSv1.2")) {
            assertThat(h.succeeded()).isFalse();
        }
        // The server notes a refusal after the client has seen it; wait for the count (bounded).
        Await.until("both refused handshakes counted", () -> handshakeFailures() >= before + 2);
        Await.until("both refused handshakes audited",
                () -> f.auditLines().stream().filter(l -> l.contains("\"tls.handshake\"")).count() >= 2);
        List<JsonNode> records = f.auditLines().stream().map(Replies::json)
                .filter(n -> "tls.handshake".equals(n.path("action").asText())).toList();
        assertThat(records).hasSizeGreaterThanOrEqualTo(2);
        records.forEach(rec -> {
            assertThat(rec.get("outcome").asText()).isEqualTo("denied");
            assertThat(rec.get("source").asText()).isEqualTo("127.0.0.1");
        });
    }

    private double handshakeFailures() {
        String metrics = f.management("GET", "/metrics").body();
        return metrics.lines().filter(l -> l.startsWith("tresor_tls_handshake_failures_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(-1);
    }

    private JsonNode auditRecord(String requestId) {
        return f.auditLines().stream().map(Replies::json).filter(n -> requestId.equals(n.path("requestId").asText()) && !"intent".equals(n.path("outcome").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no audit record for request " + requestId));
    }

}
