package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP-level abuse of a running server (SQLite): malformed and random requests, huge headers and
 * bodies, slow clients. The promises: never a 5xx, never a hang (every request is answered or
 * the connection closed within the timeout), and the server serves normally afterwards.
 * Everything is bounded in count and time and goes to 127.0.0.1 only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAbuseTest {

    /** Liveness bound for one answer; generous for a loaded 2-core machine. Not a speed assertion. */
    private static final int TIMEOUT_MILLIS = 20_000;

    private ServerFixture f;
    private SSLContext admin;
    private IssuedCert reader;

    @BeforeAll
    void start(@TempDir Path dir) {
        f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
        admin = f.admin().sslContext(f.pki().caCertificate());
        ok(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"app\"}"));
        ok(f.call(f.admin(), "PUT", "/v1/secrets/db/password", "{\"value\":\"s3cret\",\"groups\":[\"app\"]}"));
        ok(f.call(f.admin(), "POST", "/v1/clients", "{\"name\":\"reader\",\"identity\":\"spiffe://tresor.test/ns/a/sa/reader\"}"));
        ok(f.call(f.admin(), "PUT", "/v1/groups/app/clients/reader", "{\"role\":\"write\"}"));
        reader = f.pki().client("spiffe://tresor.test/ns/a/sa/reader");
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    private static void ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
    }

    @Test
    void malformedRequestsGetClientErrorsOrAClosedConnection() {
        List<String> problems = new ArrayList<>();
        String big = "a".repeat(100_000);
        List<String> requests = List.of(
                "GARBAGE\r\n\r\n",
                "GET\r\n\r\n",
                "GET /v1/whoami HTTP/9.9\r\nHost: x\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nBadHeaderWithoutColon\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n",
                "GET /v1/who\0ami HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET http://evil.example/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n",
                "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
                "TRACE /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n{",
                "PUT /v1/secrets/a HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551617\r\n\r\n{",
                "GET /v1/secrets/" + big + " HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" + "X-Many: 1\r\n".repeat(10_000) + "\r\n",
                "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" + big + ": v\r\n\r\n",
                "GET /v1/secrets/%2e%2e/clients HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/secrets/db/password?version=1&version=2 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/secrets/db/password?version=99999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/secrets/db/password?label=%zz HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/secrets/db/password?label=%C3%28 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/audit?since=PT2562047788015215H HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/audit?since=99999999999999999999999d HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /v1/secrets?limit=0 HTTP/1.1\r\nHost: x\r\n\r\n");
        for (String request : requests) {
            check(problems, admin, request.getBytes(StandardCharsets.ISO_8859_1), describe(request));
        }
        assertThat(problems).isEmpty();
    }

    /** Bodies that parse as JSON but carry values at the edges of what the routes convert. */
    @Test
    void edgeValuesInBodiesAreRefusedCleanly() {
        List<String> problems = new ArrayList<>();
        List<String[]> calls = List.of(
                new String[] {"PUT", "/v1/secrets/edge/ttl", "{\"value\":\"x\",\"groups\":[\"app\"],\"ttl\":\"PT2562047788015215H\"}"},
                new String[] {"PUT", "/v1/secrets/edge/ttl2", "{\"value\":\"x\",\"groups\":[\"app\"],\"ttl\":\"999999999d\"}"},
                new String[] {"PUT", "/v1/secrets/edge/exp", "{\"value\":\"x\",\"groups\":[\"app\"],\"expiresAt\":\"+1000000000-12-31T23:59:59Z\"}"},
                new String[] {"PUT", "/v1/secrets/edge/exp2", "{\"value\":\"x\",\"groups\":[\"app\"],\"expiresAt\":\"-1000000000-01-01T00:00:00Z\"}"},
                new String[] {"PUT", "/v1/secrets/edge/cas", "{\"value\":\"x\",\"groups\":[\"app\"],\"cas\":-1}"},
                new String[] {"PUT", "/v1/secrets/edge/b64", "{\"valueBase64\":\"%%%\",\"groups\":[\"app\"]}"},
                new String[] {"PUT", "/v1/secrets/edge/nogroup", "{\"value\":\"x\",\"groups\":[\"no-such-group\"]}"},
                new String[] {"PUT", "/v1/secrets/edge/badgroup", "{\"value\":\"x\",\"groups\":[\"../x\"]}"},
                new String[] {"PUT", "/v1/secrets/edge/labels", "{\"value\":\"x\",\"groups\":[\"app\"],\"labels\":[\"\"]}"},
                new String[] {"PUT", "/v1/secrets/edge/meta", "{\"value\":\"x\",\"groups\":[\"app\"],\"metadata\":{\"" + "k".repeat(5000) + "\":\"v\"}}"},
                new String[] {"POST", "/v1/secrets/db/password/labels", "{\"label\":\"current\",\"version\":2147483647}"},
                new String[] {"POST", "/v1/secrets/db/password/labels", "{\"label\":\"current\",\"version\":-2147483648}"},
                new String[] {"POST", "/v1/clients", "{\"name\":\"x\",\"identity\":\"spiffe://\"}"},
                new String[] {"POST", "/v1/clients", "{\"name\":\"y\",\"identity\":\"" + "i".repeat(3000) + "\"}"},
                new String[] {"POST", "/v1/ca/sign", "{\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nMAA=\\n-----END CERTIFICATE REQUEST-----\\n\",\"identity\":\"spiffe://tresor.test/x\"}"},
                new String[] {"POST", "/v1/ca/sign", "{\"csr\":\"x\",\"identity\":\"spiffe://tresor.test/x\",\"ttl\":\"PT2562047788015215H\"}"},
                new String[] {"PUT", "/v1/groups/app/clients/reader", "{\"role\":\"owner\"}"},
                new String[] {"DELETE", "/v1/secrets/db/password?destroy=maybe", null});
        for (String[] c : calls) {
            byte[] body = c[2] == null ? null : c[2].getBytes(StandardCharsets.UTF_8);
            String head = c[0] + " " + c[1] + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + (body == null ? "" : "Content-Length: " + body.length + "\r\n") + "\r\n";
            byte[] request = concat(head.getBytes(StandardCharsets.ISO_8859_1), body == null ? new byte[0] : body);
            check(problems, admin, request, c[0] + " " + c[1] + " " + (c[2] == null ? "" : describe(c[2])));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void randomRequestsNeverGetAServerError() {
        List<String> problems = new ArrayList<>();
        Random random = new Random(20261201L);
        String[] methods = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "get", "X"};
        String[] heads = {"/v1/secrets/", "/v1/groups/", "/v1/clients/", "/v1/audit", "/v1/ca/sign", "/v1/whoami", "/", "/v1/"};
        for (int i = 0; i < 300; i++) {
            StringBuilder path = new StringBuilder(heads[random.nextInt(heads.length)]);
            int segments = random.nextInt(5);
            for (int s = 0; s < segments; s++) {
                path.append(randomToken(random, 1 + random.nextInt(12))).append(random.nextInt(4) == 0 ? "" : "/");
            }
            if (random.nextBoolean()) {
                path.append('?').append(randomToken(random, 3)).append('=').append(randomToken(random, 4));
            }
            byte[] body = randomBody(random);
            String method = methods[random.nextInt(methods.length)];
            String head = method + " " + path + " HTTP/1.1\r\nHost: x\r\n"
                    + (random.nextBoolean() ? "Accept: application/octet-stream\r\n" : "")
                    + (body.length > 0 || random.nextInt(4) == 0 ? "Content-Length: " + body.length + "\r\n" : "") + "\r\n";
            check(problems, random.nextBoolean() ? admin : reader.sslContext(f.pki().caCertificate()),
                    concat(head.getBytes(StandardCharsets.ISO_8859_1), body), describe(head + new String(body, StandardCharsets.ISO_8859_1)));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void oversizedBodiesAreRefusedWithoutReadingThemWhole() throws IOException {
        try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
            c.send("PUT /v1/secrets/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n");
            RawHttps.Outcome o = c.read();
            assertThat(o.kind()).as("a 5 MB declared body").isNotEqualTo(RawHttps.Kind.HUNG);
            if (o.kind() == RawHttps.Kind.ANSWERED) {
                assertThat(o.status()).isEqualTo(413);
            }
        }
        try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
            c.send("PUT /v1/secrets/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            RawHttps.Outcome o = null;
            try {
                for (int i = 0; i < 40; i++) { // 2.5 MiB, over the 1.06 MiB limit
                    c.send(chunk);
                }
                c.send("0\r\n\r\n");
            } catch (IOException closedEarly) {
                // the server may stop reading and close once the limit is passed
            }
            o = c.read();
            assertThat(o.kind()).as("a 2.5 MiB chunked body").isNotEqualTo(RawHttps.Kind.HUNG);
            if (o.kind() == RawHttps.Kind.ANSWERED) {
                assertThat(o.status()).isEqualTo(413);
            }
        }
    }

    /**
     * Slowloris, bounded: 40 connections each dribble a request head one byte every 120 ms for
     * about 4 s while a well-behaved client keeps reading a secret; it must be served throughout.
     */
    @Test
    void slowClientsDoNotStarveOthers() throws Exception {
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<Future<RawHttps.Outcome>> slow = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                slow.add(pool.submit(() -> {
                    try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
                        byte[] head = "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1);
                        for (byte b : head) {
                            c.send(new byte[] {b});
                            Thread.sleep(120);
                        }
                        c.send("\r\n");
                        return c.read();
                    } catch (IOException e) {
                        return RawHttps.Outcome.CLOSED;
                    }
                }));
            }
            int served = 0;
            try (RawHttps good = new RawHttps(reader.sslContext(f.pki().caCertificate()), f.server().apiPort(), TIMEOUT_MILLIS)) {
                long until = System.nanoTime() + 4_000_000_000L;
                while (System.nanoTime() < until) {
                    RawHttps.Outcome o = good.exchange("GET /v1/secrets/db/password HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    assertThat(o.kind()).isEqualTo(RawHttps.Kind.ANSWERED);
                    assertThat(o.status()).isEqualTo(200);
                    served++;
                    Thread.sleep(50);
                }
            }
            assertThat(served).isPositive();
            for (Future<RawHttps.Outcome> s : slow) {
                RawHttps.Outcome o = s.get();
                assertThat(o.kind()).isNotEqualTo(RawHttps.Kind.HUNG);
                assertThat(o.serverError()).as(o.head()).isFalse();
            }
        } finally {
            pool.shutdownNow();
        }
        assertServerHealthy();
    }

    @Test
    void plaintextAndCertificatelessConnectionsAreRefused() throws Exception {
        try (Socket plain = new Socket("127.0.0.1", f.server().apiPort())) {
            plain.setSoTimeout(TIMEOUT_MILLIS);
            plain.getOutputStream().write("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            byte[] answer = plain.getInputStream().readNBytes(64);
            assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotContain("200 OK");
        } catch (IOException closed) {
            // refused by closing: fine
        }
        SSLContext noCert = SSLContext.getInstance("TLS");
        noCert.init(null, trustOnly(), null);
        try (RawHttps c = new RawHttps(noCert, f.server().apiPort(), TIMEOUT_MILLIS)) {
            RawHttps.Outcome o = c.exchange("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(o.kind()).isEqualTo(RawHttps.Kind.CLOSED);
        } catch (IOException handshakeRefused) {
            // expected: no client certificate, no connection
        }
        assertServerHealthy();
    }

    private javax.net.ssl.TrustManager[] trustOnly() throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", f.pki().caCertificate());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    private void assertServerHealthy() throws Exception {
        java.net.http.HttpClient plain = java.net.http.HttpClient.newHttpClient();
        HttpResponse<String> health = plain.send(java.net.http.HttpRequest.newBuilder(f.management("/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        HttpResponse<String> ready = plain.send(java.net.http.HttpRequest.newBuilder(f.management("/readyz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        HttpResponse<String> read = f.call(reader, "GET", "/v1/secrets/db/password", null);
        assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
        assertThat(read.body()).contains("s3cret");
    }

    /**
     * Sends one request on a fresh connection; records a 5xx or a hang as a problem. The one 5xx
     * allowed is 505 HTTP Version Not Supported for a request claiming HTTP/9.9: that is the
     * protocol's own answer (RFC 9110 15.6.6), sent by Jetty before any Tresor code runs.
     */
    private void check(List<String> problems, SSLContext who, byte[] request, String what) {
        try (RawHttps c = new RawHttps(who, f.server().apiPort(), TIMEOUT_MILLIS)) {
            RawHttps.Outcome o = c.exchange(request);
            if (o.kind() == RawHttps.Kind.HUNG) {
                problems.add("no answer within " + TIMEOUT_MILLIS + " ms: " + what);
            } else if (o.serverError() && !(o.status() == 505 && what.contains("HTTP/9.9"))) {
                problems.add(o.status() + " for: " + what + " -> " + o.head().lines().findFirst().orElse(""));
            }
        } catch (IOException e) {
            // the TLS handshake itself is not what is being abused here
            problems.add("could not connect: " + e + " before: " + what);
        }
    }

    private static String describe(String request) {
        String oneLine = request.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0");
        return oneLine.length() > 160 ? oneLine.substring(0, 160) + "… (" + request.length() + " chars)" : oneLine;
    }

    private static String randomToken(Random random, int length) {
        String alphabet = "abcXYZ019._-~%/?#&=+;:@!$'()*,[]\"<>\\^`{|} \u00e9\u4e2d";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString().replace(" ", "%20").replace("\u00e9", "%C3%A9").replace("\u4e2d", "%E4%B8%AD");
    }

    private static byte[] randomBody(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> new byte[0];
            case 1 -> "{\"value\":\"x\",\"groups\":[\"app\"]}".getBytes(StandardCharsets.UTF_8);
            case 2 -> ("{\"name\":\"g" + random.nextInt(1000) + "\"}").getBytes(StandardCharsets.UTF_8);
            case 3 -> {
                byte[] b = new byte[random.nextInt(2000)];
                random.nextBytes(b);
                yield b;
            }
            case 4 -> "{\"value\":".repeat(random.nextInt(50)).getBytes(StandardCharsets.UTF_8);
            default -> ("{\"label\":\"current\",\"version\":" + random.nextInt() + "}").getBytes(StandardCharsets.UTF_8);
        };
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
