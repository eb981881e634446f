package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A refused request whose body the route never read must not spoil the keep-alive connection it
 * came on. Jetty discards only the part of an unread body that has already arrived; when the rest
 * was still on its way it used to close the connection after an answer that promised keep-alive,
 * and the client's next request on the pooled connection failed with a broken pipe (the JDK
 * client retries only GETs on its own; the tests once ran with {@code enableAllMethodRetry} to
 * hide it, which no longer exists).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeepAliveTest {

    private static final int TIMEOUT_MILLIS = 20_000;
    private static final String TOO_LONG = "/v1/secrets/" + "n".repeat(256);

    private ServerFixture f;
    private SSLContext admin;

    @BeforeAll
    void start(@TempDir Path dir) {
        f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
        admin = f.admin().sslContext(f.pki().caCertificate());
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    /**
     * The deterministic form of the race: the head of a refused PUT arrives, its body only after
     * the server has had every chance to answer and close; the next request on the same
     * connection must still be answered.
     */
    @Test
    void aBodyArrivingAfterTheRefusalKeepsTheConnectionUsable() throws Exception {
        try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
            String body = "{\"value\":\"v\"}";
            c.send("PUT " + TOO_LONG + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\n\r\n");
            Thread.sleep(300); // the ordering that broke the connection, not a speed assertion
            c.send(body);
            RawHttps.Outcome refused = c.read();
            assertThat(refused.status()).as(refused.head()).isEqualTo(400);
            assertThat(refused.head().toLowerCase()).doesNotContain("connection: close");

            RawHttps.Outcome next = c.exchange(("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
            assertThat(next.kind()).isEqualTo(RawHttps.Kind.ANSWERED);
            assertThat(next.status()).as(next.head()).isEqualTo(200);
        }
    }

    @Test
    void acceptedWritesKeepTheConnectionOpen() throws Exception {
        try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
            for (int i = 0; i < 3; i++) {
                String body = "{\"value\":\"v" + i + "\"}";
                RawHttps.Outcome o = c.exchange(("PUT /v1/secrets/kept HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        + "application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes());
                assertThat(o.status()).as(o.head()).isIn(200, 201);
                assertThat(o.head().toLowerCase()).doesNotContain("connection: close");
            }
        }
    }

    /**
     * A body over the limit is not drained: the refusal says it closes the connection, so a client
     * does not pool it.
     */
    @Test
    void aChunkedBodyOverTheLimitClosesSayingSo() throws Exception {
        try (RawHttps c = new RawHttps(admin, f.server().apiPort(), TIMEOUT_MILLIS)) {
            c.send("PUT " + TOO_LONG + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n");
            String chunk = "10000\r\n" + "x".repeat(0x10000) + "\r\n";
            try {
                for (int i = 0; i < 20; i++) { // 1.25 MiB, over the 1.06 MiB limit
                    c.send(chunk);
                }
            } catch (java.io.IOException closed) {
                // the server stops reading once over the limit
            }
            RawHttps.Outcome o = c.read();
            assertThat(o.kind()).isNotEqualTo(RawHttps.Kind.HUNG);
            if (o.kind() == RawHttps.Kind.ANSWERED) {
                assertThat(o.status()).isEqualTo(400);
                assertThat(o.head().toLowerCase()).contains("connection: close");
            }
        }
    }

    /**
     * The same with the JDK HttpClient the CLI and the rotation module use, with its default retry
     * policy: refused writes interleaved with accepted ones on pooled connections, none failing.
     */
    @Test
    void theJdkClientNeverMeetsAClosedPooledConnection() throws Exception {
        assertThat(System.getProperty("jdk.httpclient.enableAllMethodRetry")).isNull();
        try (HttpClient http = dev.tresor.testkit.Tls.mtlsHttpClient(admin)) {
            String base = "https://127.0.0.1:" + f.server().apiPort();
            for (int i = 0; i < 200; i++) {
                HttpResponse<String> refused = http.send(put(base + TOO_LONG, "{\"value\":\"v\"}"),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
                HttpResponse<String> accepted = http.send(put(base + "/v1/secrets/pooled", "{\"value\":\"v" + i + "\"}"),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(accepted.statusCode()).as(accepted.body()).isIn(200, 201);
            }
        }
    }

    private static HttpRequest put(String uri, String body) {
        return HttpRequest.newBuilder(java.net.URI.create(uri)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build();
    }
}
