package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.ca.CsrBuilder;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import dev.tresor.server.bootstrap.CaRotation;
import dev.tresor.testkit.IssuedCert;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CA key rollover with an overlap: during it, certificates of the old and of the new CA both work
 * and the bundle carries both; new issuance uses the new CA; after it, the old CA's certificates
 * are refused (also on an open connection) and the bundle carries the new CA only.
 */
class CaRotationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void oldAndNewCaCertificatesWorkDuringTheOverlapAndTheOldCaDropsAfter(@TempDir Path dir) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            X509Certificate oldCa = f.issuerCa();
            IssuedCert oldCert = issued(f, admin, "old", oldCa);
            assertThat(f.call(oldCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);

            f.stopServer();
            CaRotation.Result rotated = CaRotation.rotate(dir.resolve("tresor.yaml"), Duration.ofHours(1), f.clock());
            assertThat(Files.readString(dir.resolve("tresor.yaml"))).contains("previous:", "trustUntil:");
            f.startServer();
            X509Certificate newCa = rotated.newCa();
            assertThat(newCa).isNotEqualTo(oldCa);
            assertThat(newCa.getPublicKey()).isNotEqualTo(oldCa.getPublicKey());

            // During the overlap: both work, the bundle has both, new issuance uses the new CA.
            assertThat(f.call(oldCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
            IssuedCert newCert = issued(f, admin, "new", newCa);
            newCert.certificate().verify(newCa.getPublicKey());
            assertThat(f.call(newCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
            assertThat(bundle(f.management("GET", "/v1/ca/bundle").body())).containsExactly(newCa, oldCa);
            // An old-CA certificate renews into a new-CA one.
            KeyPair keys = KeyPairs.generateP256();
            JsonNode renewed = JSON.readTree(f.call(oldCert, "POST", "/v1/ca/renew", "{\"csr\":"
                    + JSON.writeValueAsString(Pem.encodeCsr(CsrBuilder.create(keys, "x"))) + "}").body());
            parse(renewed.get("certificate").asText()).verify(newCa.getPublicKey());

            try (java.net.Socket keepAlive = f.sslContext(oldCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                assertThat(get(keepAlive)).isEqualTo(200);
                // The overlap ends (server clock moved past trustUntil).
                f.clock().advance(Duration.ofHours(1).plusMinutes(1));
                try {
                    assertThat(get(keepAlive)).isEqualTo(401);
                    assertThat(f.call(oldCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(401);
                    assertThat(f.call(newCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
                    assertThat(bundle(f.management("GET", "/v1/ca/bundle").body())).containsExactly(newCa);
                } finally {
                    f.clock().advance(Duration.ofHours(-1).minusMinutes(1));
                }
            }
            assertThat(Files.exists(rotated.retiredCertificate())).isTrue();
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.rollover\"")
                    && l.contains("active=" + newCa.getSerialNumber().toString(16))
                    && l.contains("retired=" + oldCa.getSerialNumber().toString(16)));
            assertThat(rotated.trustUntil()).isAfter(Instant.now().plus(Duration.ofMinutes(59)));
        }
    }

    @Test
    void anOnlineRolloverIssuesWithTheNewCaAtOnceAndKeepsTheOldOneTrustedForTheOverlap(@TempDir Path dir)
            throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            X509Certificate oldCa = f.issuerCa();
            IssuedCert oldCert = issued(f, admin, "old", oldCa);
            IssuedCert plain = issued(f, admin, "plain", oldCa);
            assertThat(f.call(plain, "POST", "/v1/ca/rotate", "{}").statusCode()).isEqualTo(403);
            assertThat(f.call(admin, "POST", "/v1/ca/rotate", "{\"overlap\":\"0s\"}").statusCode()).isEqualTo(400);
            assertThat(f.call(admin, "POST", "/v1/ca/rotate", "{\"overlap\":\"soon\"}").statusCode()).isEqualTo(400);
            assertThat(Files.readString(dir.resolve("tresor.yaml"))).doesNotContain("previous:");

            try (java.net.Socket open = f.sslContext(oldCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                assertThat(get(open)).isEqualTo(200);
                var reply = f.call(admin, "POST", "/v1/ca/rotate", "{\"overlap\":\"1h\"}");
                assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
                JsonNode done = JSON.readTree(reply.body());
                assertThat(done.get("retired").asText()).isEqualTo(oldCa.getSerialNumber().toString(16));
                X509Certificate newCa = Pem.readCertificate(dir.resolve("issuer.crt"));
                assertThat(done.get("active").asText()).isEqualTo(newCa.getSerialNumber().toString(16));
                assertThat(newCa.getPublicKey()).isNotEqualTo(oldCa.getPublicKey());
                assertThat(Files.readString(dir.resolve("tresor.yaml"))).contains("previous:", "trustUntil:");

                // Without a restart: the open connection goes on, the old CA's certificates still work on new
                // connections, and a certificate of the new CA is accepted at once (the TLS trust was rebuilt).
                assertThat(get(open)).isEqualTo(200);
                try (java.net.Socket fresh = f.sslContext(oldCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                    assertThat(get(fresh)).isEqualTo(200);
                }
                IssuedCert newCert = issued(f, admin, "new", newCa);
                try (java.net.Socket fresh = f.sslContext(newCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                    assertThat(get(fresh)).isEqualTo(200);
                }
                assertThat(bundle(f.management("GET", "/v1/ca/bundle").body())).containsExactly(newCa, oldCa);
                List<X509CRL> crls = crls(f.management("GET", "/v1/ca/crls").body());
                assertThat(crls).hasSize(2);
                crls.get(0).verify(newCa.getPublicKey());
                crls.get(1).verify(oldCa.getPublicKey());
                assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.rollover\"") && l.contains("online")
                        && l.contains("retired=" + oldCa.getSerialNumber().toString(16)));

                // A restart reads the same state from the files.
                f.stopServer();
                f.startServer();
                assertThat(f.call(oldCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
                assertThat(f.call(newCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
                assertThat(crls(f.management("GET", "/v1/ca/crls").body())).hasSize(2);
                f.clock().advance(Duration.ofHours(1).plusMinutes(1));
                try {
                    assertThat(f.call(oldCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(401);
                    assertThat(f.call(newCert, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
                } finally {
                    f.clock().advance(Duration.ofHours(-1).minusMinutes(1));
                }
            }
        }
    }

    @Test
    void aServerCertificateReloadDuringTheOverlapKeepsTrustingTheRetiredCa(@TempDir Path dir) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert oldCert = issued(f, f.admin(), "old", f.issuerCa());
            f.stopServer();
            CaRotation.Result rotated = CaRotation.rotate(dir.resolve("tresor.yaml"), Duration.ofHours(1), f.clock());
            // As tresor init lays it out: the client CA bundle holds the CAs in use, not the retired one,
            // which is trusted through ca.previous alone.
            Files.writeString(dir.resolve("clients-ca.crt"), dev.tresor.testkit.TestPki.pem(f.pki().caCertificate())
                    + dev.tresor.testkit.TestPki.pem(rotated.newCa()));
            f.startServer();
            try (java.net.Socket before = f.sslContext(oldCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                assertThat(get(before)).isEqualTo(200);
            }
            f.pki().server("localhost", "127.0.0.1").writePem(dir, "server");
            assertThat(f.server().reloadTls()).isTrue();
            try (java.net.Socket after = f.sslContext(oldCert).getSocketFactory().createSocket("localhost", f.apiPort())) {
                assertThat(get(after)).as("a new connection after the reload, with a retired-CA certificate").isEqualTo(200);
            }
        }
    }

    @Test
    void duringTheOverlapEachCaSignsItsOwnCrlAndAKekRotationKeepsTheRetiredKeyUsable(@TempDir Path dir) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            X509Certificate oldCa = f.issuerCa();
            IssuedCert oldCert = issued(f, admin, "old", oldCa);
            f.stopServer();
            CaRotation.Result rotated = CaRotation.rotate(dir.resolve("tresor.yaml"), Duration.ofHours(1), f.clock());
            Path retiredKey = dir.resolve(rotated.retiredCertificate().getFileName().toString().replace(".crt", ".key"));
            assertThat(retiredKey).exists();
            f.startServer();
            X509Certificate newCa = rotated.newCa();
            IssuedCert newCert = issued(f, admin, "new", newCa);
            for (IssuedCert revoked : List.of(oldCert, newCert)) {
                assertThat(f.call(admin, "POST", "/v1/ca/revoke", "{\"serial\":\""
                        + revoked.certificate().getSerialNumber().toString(16) + "\"}").statusCode()).isEqualTo(200);
            }
            assertCrlsOfBoth(f, newCa, oldCa, oldCert, newCert);

            // A KEK rotation re-seals the retired CA key too: after a restart it still signs its CRL.
            var kek = f.call(admin, "POST", "/v1/keys/rotate", "{\"kek\":true}");
            assertThat(kek.statusCode()).as(kek.body()).isEqualTo(200);
            assertThat(JSON.readTree(kek.body()).get("retiredCaKeys").asInt()).isEqualTo(1);
            f.stopServer();
            f.startServer();
            assertCrlsOfBoth(f, newCa, oldCa, oldCert, newCert);

            // The retired key deleted by the operator: only the active CA's CRL, which still lists both.
            f.stopServer();
            Files.delete(retiredKey);
            f.startServer();
            List<X509CRL> onlyActive = crls(f.management("GET", "/v1/ca/crls").body());
            assertThat(onlyActive).hasSize(1);
            onlyActive.get(0).verify(newCa.getPublicKey());
            assertThat(onlyActive.get(0).isRevoked(oldCert.certificate())).isTrue();
            assertThat(onlyActive.get(0).isRevoked(newCert.certificate())).isTrue();
        }
    }

    private static void assertCrlsOfBoth(ServerFixture f, X509Certificate newCa, X509Certificate oldCa, IssuedCert... revoked)
            throws Exception {
        var reply = f.management("GET", "/v1/ca/crls");
        assertThat(reply.statusCode()).isEqualTo(200);
        List<X509CRL> crls = crls(reply.body());
        assertThat(crls).hasSize(2);
        crls.get(0).verify(newCa.getPublicKey());
        crls.get(1).verify(oldCa.getPublicKey());
        for (X509CRL crl : crls) {
            for (IssuedCert cert : revoked) {
                assertThat(crl.isRevoked(cert.certificate())).as("listed in every CRL").isTrue();
            }
        }
        // The same over mTLS on the API port.
        assertThat(crls(f.call(f.admin(), "GET", "/v1/ca/crls", null).body())).hasSize(2);
    }

    @SuppressWarnings("unchecked")
    private static List<X509CRL> crls(String pem) throws Exception {
        return List.copyOf((Collection<X509CRL>) CertificateFactory.getInstance("X.509")
                .generateCRLs(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
    }

    @Test
    void addsAnEntryToAnExistingPreviousList() {
        String yaml = "trustDomain: x\nca:\n  cert: ca.crt\n  previous:\n    - cert: a.crt\n      trustUntil: \"2027-01-01T00:00:00Z\"\n"
                + "store:\n  kind: sqlite\n";
        String out = CaRotation.withPrevious(yaml, "b.crt", Instant.parse("2027-02-01T00:00:00Z"));
        assertThat(out).contains("  previous:\n    - cert: b.crt\n      trustUntil: \"2027-02-01T00:00:00Z\"\n    - cert: a.crt")
                .endsWith("store:\n  kind: sqlite\n");
    }

    private static IssuedCert issued(ServerFixture f, IssuedCert admin, String name, X509Certificate expectedCa)
            throws Exception {
        String identity = "spiffe://" + ServerFixture.TRUST_DOMAIN + "/ns/rot/sa/" + name;
        assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}")
                .statusCode()).isEqualTo(201);
        KeyPair keys = KeyPairs.generateP256();
        var reply = f.call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"csr\":"
                + JSON.writeValueAsString(Pem.encodeCsr(CsrBuilder.create(keys, "x"))) + "}");
        assertThat(reply.statusCode()).as(reply.body()).isEqualTo(201);
        X509Certificate cert = parse(JSON.readTree(reply.body()).get("certificate").asText());
        cert.verify(expectedCa.getPublicKey());
        return new IssuedCert(cert, keys.getPrivate(), expectedCa);
    }

    private static int get(java.net.Socket socket) throws Exception {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        var in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.IOException("closed after " + head);
            }
            head.append((char) b);
        }
        long length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        in.readNBytes((int) length);
        return Integer.parseInt(head.substring(9, 12));
    }

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> bundle(String pem) throws Exception {
        Collection<X509Certificate> all = (Collection<X509Certificate>) CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        return List.copyOf(all);
    }
}
