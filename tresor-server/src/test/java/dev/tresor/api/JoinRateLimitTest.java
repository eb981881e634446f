package dev.tresor.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.server.ServerFixture;
import dev.tresor.server.TestClock;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Join attempts are limited per source address, whatever their outcome, and refusals are audited. */
class JoinRateLimitTest {

    @Test
    void aBucketPerAddressRefillsOverTime() {
        TestClock clock = new TestClock();
        JoinRateLimiter limiter = new JoinRateLimiter(new JoinRateLimiter.Limits(3, 6, 2), clock);
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryAcquire("10.0.0.1")).isTrue();
        }
        assertThat(limiter.tryAcquire("10.0.0.1")).isFalse();
        assertThat(limiter.tryAcquire("10.0.0.2")).isTrue(); // another address has its own bucket
        // Two addresses tracked (the maximum), neither refilled: a third is refused (fail closed).
        assertThat(limiter.tryAcquire("10.0.0.3")).isFalse();
        clock.advance(Duration.ofSeconds(10)); // 6 a minute: one more attempt after 10 s
        assertThat(limiter.tryAcquire("10.0.0.1")).isTrue();
        assertThat(limiter.tryAcquire("10.0.0.1")).isFalse();
        clock.advance(Duration.ofMinutes(1)); // all refilled: idle buckets are forgotten for new addresses
        assertThat(limiter.tryAcquire("10.0.0.3")).isTrue();
    }

    @Test
    void theJoinPortAnswers429AfterTheLimitAndAuditsIt(@TempDir Path dir) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE,
                new ServerFixture.Options(null, null, null, null, null, 3))) {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("ca", f.pki().caCertificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            try (HttpClient http = HttpClient.newBuilder().sslContext(tls).build()) {
                HttpRequest guess = HttpRequest.newBuilder(f.join("/v1/join")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"tjt1.000000000000000000000000."
                                + "A".repeat(43) + "\",\"csr\":\"x\"}")).build();
                for (int i = 0; i < 3; i++) {
                    assertThat(http.send(guess, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
                }
                HttpResponse<String> limited = http.send(guess, HttpResponse.BodyHandlers.ofString());
                assertThat(limited.statusCode()).isEqualTo(429);
                assertThat(limited.body()).contains("too many join attempts");
            }
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"ca.join\"") && l.contains("rate limited")
                    && l.contains("\"status\":429"));
        }
    }
}
