package dev.tresor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.client.CertificateRenewer;
import dev.tresor.client.CredentialDirectory;
import dev.tresor.client.Credentials;
import dev.tresor.client.IssuanceClient;
import dev.tresor.client.IssuanceException;
import dev.tresor.client.RenewalPolicy;
import dev.tresor.server.ServerFixture;
import dev.tresor.server.ServerFixture.StoreKind;
import dev.tresor.testkit.IssuedCert;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 14, part 1, against a real server per store (real TLS, real SQLite file, real PostgreSQL):
 * who may get which certificate (admins, self-renewal, join tokens), what the CA puts in it
 * whatever the CSR asks, the join port reaching nothing else, and revocation refusing even
 * connections already open.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreKind.class)
class WorkloadIdentityTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String TD = ServerFixture.TRUST_DOMAIN;
    private static final Provider BC = new BouncyCastleProvider();

    private static ServerFixture f;
    private static Path dir;

    @Parameter
    StoreKind kind;

    private IssuedCert admin;
    private String ns;

    @BeforeParameterizedClassInvocation
    static void startServer(StoreKind kind) throws IOException {
        dir = Files.createTempDirectory("tresor-identity-");
        f = ServerFixture.start(dir, kind);
    }

    @AfterParameterizedClassInvocation
    static void stopServer() {
        if (f != null) {
            f.close();
            f = null;
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (dir != null && Files.exists(dir)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @BeforeEach
    void names() {
        admin = f.admin();
        ns = "w" + COUNTER.incrementAndGet();
    }

    // ------------------------------------------------------------------ self-renewal

    @Test
    void aClientRenewsExactlyItsOwnIdentityWithANewKeyWhateverTheCsrAsks() throws Exception {
        IssuedCert workload = issuedClient("app");
        String identity = identity("app");
        KeyPair fresh = ec("secp256r1");
        // The CSR asks for the admin's identity as its SAN, and to be a CA: both are ignored.
        String greedy = csr(fresh, "SHA256withECDSA", null, ServerFixture.ADMIN_IDENTITY, true);
        JsonNode renewed = ok(f.call(workload, "POST", "/v1/ca/renew", "{\"csr\":" + q(greedy) + "}"), 201);
        X509Certificate cert = parse(renewed.get("certificate").asText());
        assertThat(renewed.get("identity").asText()).isEqualTo(identity);
        assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(6, identity));
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(cert.getPublicKey()).isEqualTo(fresh.getPublic());
        cert.verify(f.issuerCa().getPublicKey());
        assertThat(parse(renewed.get("bundle").asText())).isEqualTo(f.issuerCa());
        // Default lifetime 24 h (+ the 5 min back-dating).
        assertThat(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofHours(24).plusMinutes(5));

        // The renewed certificate works, and renews again (a chain of renewals).
        IssuedCert next = new IssuedCert(cert, fresh.getPrivate(), f.issuerCa());
        assertThat(ok(f.call(next, "GET", "/v1/whoami", null), 200).get("identity").asText()).isEqualTo(identity);
        KeyPair third = ec("secp384r1");
        JsonNode again = ok(f.call(next, "POST", "/v1/ca/renew", "{\"csr\":" + q(csr(third, "SHA384withECDSA", null,
                null, false)) + ",\"profile\":\"workload\",\"ttl\":\"5m\"}"), 201);
        X509Certificate workloadCert = parse(again.get("certificate").asText());
        assertThat(workloadCert.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(workloadCert.getSubjectX500Principal().getName()).isEmpty();
        assertThat(Duration.between(workloadCert.getNotBefore().toInstant(), workloadCert.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofMinutes(10));

        // Audited as ca.renew with identity and serial.
        assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.renew\"") && l.contains(renewed.get("serial").asText()));
    }

    @Test
    void renewalRefusesBadCsrsWithA4xx() throws Exception {
        IssuedCert workload = issuedClient("bad");
        assertThat(error(renew(workload, csr(generate("RSA", 1024), "SHA256withRSA", null, null, false)), 400))
                .contains("1024 bits");
        for (String curve : List.of("secp192r1", "secp256k1")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
            g.initialize(new ECGenParameterSpec(curve));
            assertThat(error(renew(workload, csr(g.generateKeyPair(), "SHA256withECDSA", BC, null, false)), 400))
                    .as(curve).contains("is on curve", "only P-256");
        }
        assertThat(error(renew(workload, tampered(csr(ec("secp256r1"), "SHA256withECDSA", null, null, false))), 400))
                .contains("signature");
        error(renew(workload, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), 400);
        error(f.call(workload, "POST", "/v1/ca/renew", "{}"), 400);
        error(f.call(workload, "POST", "/v1/ca/renew", "{\"csr\":" + q(goodCsr()) + ",\"ttl\":\"8d\"}"), 400);
        error(f.call(workload, "POST", "/v1/ca/renew", "{\"csr\":" + q(goodCsr()) + ",\"profile\":\"ca\"}"), 400);
        error(f.call(workload, "POST", "/v1/ca/renew", "{\"csr\":" + q(goodCsr()) + ",\"identity\":\"x\"}"), 400);
        // RSA 2048 is allowed.
        ok(renew(workload, csr(generate("RSA", 2048), "SHA256withRSA", null, null, false)), 201);
    }

    @Test
    void anUnregisteredPeerCannotRenew() {
        IssuedCert stranger = f.pki().client("spiffe://" + TD + "/ns/" + ns + "/sa/stranger");
        error(renew(stranger, goodCsr()), 401);
    }

    // ------------------------------------------------------------------ join tokens

    @Test
    void aJoinTokenWorksOnceForItsIdentityAndIsAuditedWithoutTheToken() throws Exception {
        String name = client("db");
        String identity = identity("db");
        JsonNode created = ok(f.call(admin, "POST", "/v1/tokens", "{\"identity\":\"" + identity + "\",\"ttl\":\"1h\"}"), 201);
        String token = created.get("token").asText();
        assertThat(created.get("client").asText()).isEqualTo(name);
        assertThat(created.get("uses").asInt()).isEqualTo(1);

        KeyPair keys = ec("secp256r1");
        // The CSR asks for the admin's identity: the certificate still gets the token's.
        HttpResponse<String> joined = join(token, csr(keys, "SHA256withECDSA", null, ServerFixture.ADMIN_IDENTITY, true));
        JsonNode body = ok(joined, 201);
        X509Certificate cert = parse(body.get("certificate").asText());
        assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(6, identity));
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        IssuedCert joinedCert = new IssuedCert(cert, keys.getPrivate(), f.issuerCa());
        assertThat(ok(f.call(joinedCert, "GET", "/v1/whoami", null), 200).get("identity").asText()).isEqualTo(identity);
        // The metrics count it (other tests of this class issue too, hence at least one), and the
        // first issued certificate to expire does so no later than this one.
        String metrics = f.management("GET", "/metrics").body();
        assertThat(metricLine(metrics, "tresor_issued_certificates ")).isGreaterThanOrEqualTo(1);
        assertThat(metricLine(metrics, "tresor_issued_certificate_earliest_expiry_seconds "))
                .isPositive().isLessThanOrEqualTo((cert.getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0 + 60);

        // Second use refused; the same message for every refusal.
        String second = error(join(token, goodCsr()), 401);
        assertThat(second).contains("invalid, expired or used up");

        // Audit: the use and the failed use, by token id, never the token's secret.
        List<String> audit = f.auditLines();
        String secret = token.substring(token.lastIndexOf('.') + 1);
        assertThat(audit).noneMatch(l -> l.contains(secret));
        assertThat(audit).anyMatch(l -> l.contains("\"ca.join\"") && l.contains("\"allowed\"")
                && l.contains("token=" + created.get("id").asText()) && l.contains(cert.getSerialNumber().toString(16)));
        assertThat(audit).anyMatch(l -> l.contains("\"ca.join\"") && l.contains("\"denied\"") && l.contains("token used up"));
        assertThat(audit).anyMatch(l -> l.contains("\"token.create\"") && l.contains("id=" + created.get("id").asText()));
        if (kind == StoreKind.SQLITE) {
            // Stored hashed: the secret half is nowhere in the database file.
            byte[] db = Files.readAllBytes(f.dir().resolve("tresor.db"));
            assertThat(new String(db, StandardCharsets.ISO_8859_1)).doesNotContain(secret);
        }
    }

    @Test
    void joinTokensExpireCountTheirUsesAndRefuseGuesses() throws Exception {
        client("multi");
        String token = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-multi\",\"uses\":2}"), 201)
                .get("token").asText();
        ok(join(token, goodCsr()), 201);
        ok(join(token, goodCsr()), 201);
        error(join(token, goodCsr()), 401);

        // A guessed secret for a real id, a malformed token, no token.
        client("guess");
        String real = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-guess\"}"), 201).get("token").asText();
        String guessed = real.substring(0, real.lastIndexOf('.') + 1) + "A".repeat(43);
        error(join(guessed, goodCsr()), 401);
        error(join("not-a-token", goodCsr()), 401);
        error(anonymous(joinRequest("{\"csr\":" + q(goodCsr()) + "}")), 400);
        error(anonymous(joinRequest("{\"token\":\"" + real + "\",\"csr\":" + q(goodCsr()) + ",\"identity\":\""
                + ServerFixture.ADMIN_IDENTITY + "\"}")), 400);
        error(anonymous(joinRequest("not json")), 400);
        // The real token still works after the guesses (a refused guess uses nothing up).
        ok(join(real, goodCsr()), 201);
        assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.join\"") && l.contains("wrong token secret"));

        // Expiry: ttl 1m, one minute and a bit later it is refused.
        client("late");
        String late = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-late\",\"ttl\":\"1m\"}"), 201)
                .get("token").asText();
        f.clock().advance(Duration.ofSeconds(61));
        try {
            error(join(late, goodCsr()), 401);
        } finally {
            // Certificates are checked against real time by TLS: later tests need the clock back.
            f.clock().advance(Duration.ofSeconds(-61));
        }
        assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.join\"") && l.contains("token expired"));
    }

    @Test
    void tokensAreForAdminsAndForRegisteredClientsOnly() {
        IssuedCert plain = issuedClient("plain");
        error(f.call(plain, "POST", "/v1/tokens", "{\"identity\":\"" + identity("plain") + "\"}"), 403);
        error(f.call(admin, "POST", "/v1/tokens", "{\"identity\":\"spiffe://" + TD + "/ns/" + ns + "/sa/nobody\"}"), 404);
        client("t");
        error(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-t\",\"ttl\":\"8d\"}"), 400);
        error(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-t\",\"uses\":0}"), 400);
        error(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-t\",\"identity\":\"" + identity("t") + "\"}"), 400);
        error(f.call(admin, "POST", "/v1/tokens", "{}"), 400);
    }

    @Test
    void aTokenRowEditedInTheDatabaseIsRefused() throws Exception {
        client("tamper");
        JsonNode created = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-tamper\"}"), 201);
        ok(join(created.get("token").asText(), goodCsr()), 201);
        client("tamper2");
        JsonNode second = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-tamper2\"}"), 201);
        try (Connection c = database()) {
            // Someone with database access raises the uses, or points the token at another client.
            c.createStatement().executeUpdate("UPDATE join_tokens SET uses_left = 100, client = 'admin' WHERE id = '"
                    + second.get("id").asText() + "'");
        }
        error(join(second.get("token").asText(), goodCsr()), 401);
        assertThat(f.auditLines()).anyMatch(l -> l.contains("integrity.violation") && l.contains("join token"));
    }

    @Test
    void aDeletedClientsTokenNoLongerWorks() {
        client("gone");
        String token = ok(f.call(admin, "POST", "/v1/tokens", "{\"client\":\"" + ns + "-gone\"}"), 201).get("token").asText();
        ok(f.call(admin, "DELETE", "/v1/clients/" + ns + "-gone", null), 200);
        error(join(token, goodCsr()), 401);
    }

    // ------------------------------------------------------------------ the join port reaches nothing else

    @Test
    void theJoinPortServesOnlyJoinAndTheApiRefusesCertificateLessPeers() throws Exception {
        try (HttpClient anonymous = HttpClient.newBuilder().sslContext(serverTrustOnly())
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            for (String path : List.of("/v1/whoami", "/v1/secrets", "/v1/secrets/a", "/v1/clients", "/v1/groups",
                    "/v1/audit", "/v1/ca/sign", "/v1/ca/renew", "/v1/ca/revoke", "/v1/tokens", "/v1/ca/bundle", "/v1/ca/rotate",
                    "/v1/ca/crls", "/v1/keys/rotate", "/v1/keys/status",
                    "/v1/join/../whoami", "/v1/join/x", "/", "/healthz", "/metrics")) {
                for (String method : List.of("GET", "POST", "PUT", "DELETE")) {
                    HttpResponse<String> r = anonymous.send(HttpRequest.newBuilder(f.join(path))
                            .method(method, HttpRequest.BodyPublishers.ofString("{}"))
                            .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(method + " " + path).isIn(400, 404);
                }
            }
            HttpResponse<String> get = anonymous.send(HttpRequest.newBuilder(f.join("/v1/join")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(get.statusCode()).isEqualTo(405);

            // The API port refuses the same peer at the handshake, on every route.
            for (String path : List.of("/v1/whoami", "/v1/join", "/v1/ca/bundle", "/v1/tokens")) {
                assertThatThrownBy(() -> anonymous.send(HttpRequest.newBuilder(f.api(path)).GET().build(),
                        HttpResponse.BodyHandlers.ofString())).as(path).isInstanceOf(IOException.class);
            }
        }
        // A client certificate on the join port grants nothing more there.
        try (HttpClient withCert = HttpClient.newBuilder().sslContext(f.sslContext(admin)).build()) {
            HttpResponse<String> r = withCert.send(HttpRequest.newBuilder(f.join("/v1/clients")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(404);
        }
    }

    // ------------------------------------------------------------------ bundle, CRL, revocation

    @Test
    void bundleAndCrlArePublishedOnTheApiAndTheManagementPort() throws Exception {
        HttpResponse<String> api = f.call(admin, "GET", "/v1/ca/bundle", null);
        assertThat(api.statusCode()).isEqualTo(200);
        assertThat(api.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/pem-certificate-chain");
        assertThat(parse(api.body())).isEqualTo(f.issuerCa());
        HttpResponse<String> mgmt = f.management("GET", "/v1/ca/bundle");
        assertThat(mgmt.statusCode()).isEqualTo(200);
        assertThat(parse(mgmt.body())).isEqualTo(f.issuerCa());
        X509CRL crl = crlFromManagementPort();
        crl.verify(f.issuerCa().getPublicKey());
        assertThat(crl.getIssuerX500Principal()).isEqualTo(f.issuerCa().getSubjectX500Principal());
        assertThat(crl.getNextUpdate()).isAfter(crl.getThisUpdate());
    }

    @Test
    void adminsListTheCertificatesTheCaIssuedWithTheirRevocation() throws Exception {
        IssuedCert first = issuedClient("ls");
        String revoked = first.certificate().getSerialNumber().toString(16);
        ok(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\"" + revoked + "\"}"), 200);
        IssuedCert other = issuedClient("ls2");
        String kept = other.certificate().getSerialNumber().toString(16);

        JsonNode mine = ok(f.call(admin, "GET", "/v1/ca/certs?client=" + ns + "-ls", null), 200).get("certificates");
        assertThat(mine).hasSize(1);
        assertThat(mine.get(0).get("serial").asText()).isEqualTo(revoked);
        assertThat(mine.get(0).get("identity").asText()).isEqualTo(identity("ls"));
        assertThat(mine.get(0).get("revokedAt").isTextual()).isTrue();
        assertThat(mine.get(0).get("revokedBy").asText()).isEqualTo("admin");
        JsonNode all = ok(f.call(admin, "GET", "/v1/ca/certs", null), 200).get("certificates");
        List<String> serials = new java.util.ArrayList<>();
        all.forEach(c -> serials.add(c.get("serial").asText()));
        assertThat(serials).contains(revoked, kept);
        assertThat(serials.indexOf(kept)).as("newest first").isLessThan(serials.indexOf(revoked));
        assertThat(all.get(serials.indexOf(kept)).get("revokedAt").isNull()).isTrue();

        error(f.call(other, "GET", "/v1/ca/certs", null), 403);
        error(f.call(admin, "GET", "/v1/ca/certs?limit=0", null), 400);
        error(f.call(admin, "GET", "/v1/ca/certs?client=bad%2Fname", null), 400);
    }

    @Test
    void revokingASerialRefusesItAtOnceEvenOnAnOpenKeepAliveConnection() throws Exception {
        IssuedCert workload = issuedClient("ka");
        String serial = workload.certificate().getSerialNumber().toString(16);
        try (KeepAlive connection = new KeepAlive(f.sslContext(workload), f.apiPort())) {
            assertThat(connection.get("/v1/whoami")).isEqualTo(200);
            ok(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\"" + serial.toUpperCase() + "\"}"), 200);
            // Same TCP/TLS connection, next request: refused.
            assertThat(connection.get("/v1/whoami")).isEqualTo(401);
        }
        error(f.call(workload, "GET", "/v1/whoami", null), 401);
        error(renew(workload, goodCsr()), 401);
        X509CRL crl = crlFromManagementPort();
        assertThat(crl.getRevokedCertificate(workload.certificate().getSerialNumber())).isNotNull();
        assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.revoke\"") && l.contains("serial=" + serial));
        // Unknown or malformed serials: 404 / 400; non-admins: 403.
        error(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\"abc123\"}"), 404);
        error(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\"xyz\"}"), 400);
        error(f.call(admin, "POST", "/v1/ca/revoke", "{}"), 400);
        IssuedCert plain = issuedClient("pl");
        error(f.call(plain, "POST", "/v1/ca/revoke", "{\"serial\":\"" + serial + "\"}"), 403);
    }

    @Test
    void clearingARevocationInTheDatabaseDoesNotLetTheCertificateBackIn() throws Exception {
        IssuedCert workload = issuedClient("undo");
        String serial = workload.certificate().getSerialNumber().toString(16);
        ok(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\"" + serial + "\"}"), 200);
        try (Connection c = database()) {
            assertThat(c.createStatement().executeUpdate("UPDATE issued_certs SET revoked_at = NULL, revoked_by = NULL"
                    + " WHERE serial = '" + serial + "'")).isEqualTo(1);
        }
        error(f.call(workload, "GET", "/v1/whoami", null), 401);
        assertThat(crlFromManagementPort().getRevokedCertificate(workload.certificate().getSerialNumber())).isNotNull();
        JsonNode listed = ok(f.call(admin, "GET", "/v1/ca/certs?client=" + ns + "-undo", null), 200);
        assertThat(listed.toString()).contains(serial);
        assertThat(listed.findValues("revokedAt")).anyMatch(JsonNode::isTextual);
    }

    @Test
    void revokingAnIdentityRefusesEveryEarlierCertificateButNotLaterOnes() throws Exception {
        IssuedCert first = issuedClient("id");
        KeyPair k2 = ec("secp256r1");
        JsonNode renewed = ok(f.call(first, "POST", "/v1/ca/renew", "{\"csr\":" + q(csr(k2, "SHA256withECDSA", null, null,
                false)) + "}"), 201);
        IssuedCert second = new IssuedCert(parse(renewed.get("certificate").asText()), k2.getPrivate(), f.issuerCa());
        try (KeepAlive open = new KeepAlive(f.sslContext(second), f.apiPort())) {
            assertThat(open.get("/v1/whoami")).isEqualTo(200);
            JsonNode revoked = ok(f.call(admin, "POST", "/v1/ca/revoke", "{\"identity\":\"" + identity("id") + "\"}"), 200);
            assertThat(revoked.get("revoked").size()).isEqualTo(2);
            assertThat(open.get("/v1/whoami")).isEqualTo(401);
        }
        error(f.call(first, "GET", "/v1/whoami", null), 401);
        // An admin issues a new certificate: it works.
        KeyPair k3 = ec("secp256r1");
        JsonNode fresh = ok(f.call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + ns + "-id\",\"reissue\":true,\"csr\":"
                + q(csr(k3, "SHA256withECDSA", null, null, false)) + "}"), 201);
        IssuedCert third = new IssuedCert(parse(fresh.get("certificate").asText()), k3.getPrivate(), f.issuerCa());
        ok(f.call(third, "GET", "/v1/whoami", null), 200);
    }

    @Test
    void deletingAClientRefusesItOnAnOpenKeepAliveConnection() throws Exception {
        IssuedCert workload = issuedClient("del");
        try (KeepAlive connection = new KeepAlive(f.sslContext(workload), f.apiPort())) {
            assertThat(connection.get("/v1/whoami")).isEqualTo(200);
            ok(f.call(admin, "DELETE", "/v1/clients/" + ns + "-del", null), 200);
            assertThat(connection.get("/v1/whoami")).isEqualTo(401);
        }
    }

    // ------------------------------------------------------------------ the reusable client against the real server

    @Test
    void aPinnedCaFingerprintStandsInForTheCaFileAndAWrongOneIsRefused() throws Exception {
        X509Certificate serverCa = f.pki().caCertificate();
        String pin = dev.tresor.client.PinnedCa.fingerprint(serverCa);
        assertThat(dev.tresor.client.PinnedCa.discover(f.join(""), pin, Duration.ofSeconds(10))).isEqualTo(serverCa);
        // openssl's spelling is accepted as is.
        String openssl = "SHA256 Fingerprint=" + java.util.HexFormat.ofDelimiter(":").withUpperCase()
                .formatHex(java.util.HexFormat.of().parseHex(pin.substring("sha256:".length())));
        assertThat(dev.tresor.client.PinnedCa.discover(f.api(""), openssl, Duration.ofSeconds(10))).isEqualTo(serverCa);

        // The discovered CA is enough to join.
        client("pin");
        String token = ok(f.call(admin, "POST", "/v1/tokens", "{\"identity\":\"" + identity("pin") + "\"}"), 201)
                .get("token").asText();
        X509Certificate trusted = dev.tresor.client.PinnedCa.discover(f.join(""), pin, Duration.ofSeconds(10));
        Credentials joined = new IssuanceClient(List.of(trusted), Duration.ofSeconds(10)).join(f.join(""), token,
                dev.tresor.client.KeyMaterial.generateP256(), IssuanceClient.Profile.CLIENT);
        assertThat(joined.identity()).isEqualTo(identity("pin"));

        String wrong = dev.tresor.client.PinnedCa.fingerprint(f.issuerCa());
        assertThatThrownBy(() -> dev.tresor.client.PinnedCa.discover(f.join(""), wrong, Duration.ofSeconds(10)))
                .isInstanceOf(IssuanceException.class).hasMessageContaining("presents no CA certificate with the fingerprint");
        assertThatThrownBy(() -> dev.tresor.client.PinnedCa.parse("md5:abcd"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sha256:<64 hex digits>");
        assertThatThrownBy(() -> dev.tresor.client.PinnedCa.parse("sha256:abcd"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex digits");
    }

    @Test
    void tresorClientJoinsThenRenewsAndSwapsItsFilesAtomically(@TempDir Path out) throws Exception {
        client("tun");
        String token = ok(f.call(admin, "POST", "/v1/tokens", "{\"identity\":\"" + identity("tun") + "\"}"), 201)
                .get("token").asText();
        IssuanceClient issuance = new IssuanceClient(List.of(f.pki().caCertificate()), Duration.ofSeconds(10));
        Credentials joined = issuance.join(f.join(""), token, dev.tresor.client.KeyMaterial.generateP256(),
                IssuanceClient.Profile.WORKLOAD);
        assertThat(joined.identity()).isEqualTo(identity("tun"));
        CredentialDirectory folder = new CredentialDirectory(out.resolve("id"));
        folder.install(joined);
        folder.saveServer(new dev.tresor.client.ServerEndpoint(f.api(""), List.of(f.pki().caCertificate())));
        assertThat(Files.getPosixFilePermissions(folder.keyFile().toRealPath()))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        // A second join with the used token fails with a permanent error.
        assertThatThrownBy(() -> issuance.join(f.join(""), token, dev.tresor.client.KeyMaterial.generateP256(),
                IssuanceClient.Profile.WORKLOAD)).isInstanceOf(IssuanceException.class)
                .satisfies(e -> assertThat(((IssuanceException) e).permanent()).isTrue());

        List<Credentials> announced = new java.util.concurrent.CopyOnWriteArrayList<>();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (CertificateRenewer renewer = new CertificateRenewer(folder,
                CertificateRenewer.Renewal.over(issuance, f.api(""), null, IssuanceClient.Profile.WORKLOAD),
                RenewalPolicy.DEFAULT, Clock.systemUTC(), scheduler, List.of(announced::add))) {
            assertThat(renewer.renewIfDue()).isEmpty(); // a fresh certificate is not due
            Credentials renewed = renewer.renewNow();
            assertThat(renewed.serial()).isNotEqualTo(joined.serial());
            assertThat(renewed.identity()).isEqualTo(joined.identity());
            assertThat(renewed.key()).isNotEqualTo(joined.key());
            assertThat(announced).containsExactly(renewed);
            // The stable paths now show the new pair, and it works against the API.
            Credentials onDisk = folder.load().orElseThrow();
            assertThat(onDisk.serial()).isEqualTo(renewed.serial());
            String cert = Files.readString(folder.certificateFile());
            assertThat(dev.tresor.client.KeyMaterial.parseCertificates(cert).getFirst().getSerialNumber())
                    .isEqualTo(renewed.serialNumber());
            IssuedCert asIssued = new IssuedCert(renewed.certificate(), renewed.key(), f.issuerCa());
            ok(f.call(asIssued, "GET", "/v1/whoami", null), 200);
        } finally {
            scheduler.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ helpers

    private String identity(String suffix) {
        return "spiffe://" + TD + "/ns/" + ns + "/sa/" + suffix;
    }

    /** Registers a client and returns its name. */
    private String client(String suffix) {
        String name = ns + "-" + suffix;
        ok(f.call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity(suffix) + "\"}"), 201);
        return name;
    }

    /** Registers a client and has the built-in CA issue its first certificate. */
    private IssuedCert issuedClient(String suffix) {
        client(suffix);
        try {
            KeyPair keys = ec("secp256r1");
            JsonNode signed = ok(f.call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + ns + "-" + suffix + "\",\"csr\":"
                    + q(csr(keys, "SHA256withECDSA", null, null, false)) + "}"), 201);
            return new IssuedCert(parse(signed.get("certificate").asText()), keys.getPrivate(), f.issuerCa());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> renew(IssuedCert who, String csrPem) {
        return f.call(who, "POST", "/v1/ca/renew", "{\"csr\":" + q(csrPem) + "}");
    }

    private HttpResponse<String> join(String token, String csrPem) {
        return anonymous(joinRequest("{\"token\":" + q(token) + ",\"csr\":" + q(csrPem) + "}"));
    }

    /** Sends a request without a client certificate (as a workload that has none yet). */
    private static HttpResponse<String> anonymous(HttpRequest request) {
        try (HttpClient http = HttpClient.newBuilder().sslContext(serverTrustOnly()).connectTimeout(Duration.ofSeconds(5))
                .build()) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpRequest joinRequest(String body) {
        return HttpRequest.newBuilder(f.join("/v1/join")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static SSLContext serverTrustOnly() throws Exception {
        java.security.KeyStore anchors = java.security.KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        anchors.setCertificateEntry("ca", f.pki().caCertificate());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private Connection database() throws Exception {
        if (kind == StoreKind.SQLITE) {
            return DriverManager.getConnection("jdbc:sqlite:" + f.dir().resolve("tresor.db"));
        }
        return DriverManager.getConnection(f.postgres().jdbcUrl(), f.postgres().user(), f.postgres().password());
    }

    private static X509CRL crlFromManagementPort() throws Exception {
        try (HttpClient plain = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> r = plain.send(HttpRequest.newBuilder(f.management("/v1/ca/crl")).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/pkix-crl");
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(r.body()));
        }
    }

    private static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    private static KeyPair generate(String algorithm, int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
        g.initialize(bits);
        return g.generateKeyPair();
    }

    private static String goodCsr() {
        try {
            return csr(ec("secp256r1"), "SHA256withECDSA", null, null, false);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CSR, optionally requesting a URI SAN and CA=true with pathLen 5 (which the CA must ignore). */
    private static String csr(KeyPair keys, String algorithm, Provider provider, String sanUri, boolean askCa) throws Exception {
        PKCS10CertificationRequestBuilder builder = new JcaPKCS10CertificationRequestBuilder(
                new X500Name("CN=admin"), keys.getPublic());
        if (sanUri != null || askCa) {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            if (sanUri != null) {
                extensions.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, sanUri)));
            }
            if (askCa) {
                extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(5));
            }
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
        }
        JcaContentSignerBuilder signer = new JcaContentSignerBuilder(algorithm);
        if (provider != null) {
            signer.setProvider(provider);
        }
        byte[] der = builder.build(signer.build(keys.getPrivate())).getEncoded();
        return pem(der);
    }

    /** The CSR with one bit of its signed content flipped (the signature no longer verifies). */
    private static String tampered(String csrPem) {
        String b64 = csrPem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        // Flip a bit of the signed subject ("CN=admin" -> "CN=`dmin"): still parses, signature fails.
        String text = new String(der, StandardCharsets.ISO_8859_1);
        der[text.indexOf("admin")] ^= 0x01;
        return pem(der);
    }

    private static String pem(byte[] der) {
        return "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END CERTIFICATE REQUEST-----\n";
    }

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static String q(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode ok(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String error(HttpResponse<String> r, int status) {
        JsonNode body = ok(r, status);
        assertThat(body.has("error")).as(r.body()).isTrue();
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
        return body.get("error").asText();
    }

    /** One TLS connection that sends several HTTP/1.1 requests (keep-alive), to show revocation is per request. */
    private static final class KeepAlive implements AutoCloseable {
        private final SSLSocket socket;
        private final InputStream in;
        private final OutputStream out;

        KeepAlive(SSLContext context, int port) throws IOException {
            socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", port);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        int get(String path) throws IOException {
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed by the server after: " + head);
                }
                head.append((char) b);
            }
            String text = head.toString();
            int status = Integer.parseInt(text.substring(9, 12));
            long length = 0;
            for (String line : text.split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Long.parseLong(line.substring(15).trim());
                }
            }
            in.readNBytes((int) length);
            return status;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static double metricLine(String scrape, String prefix) {
        return scrape.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(prefix.length()).trim()))
                .findFirst().orElseThrow(() -> new AssertionError("no metric line " + prefix));
    }
}
