package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.maxConnections} over real mutual-TLS sockets: with N connections open, the
 * connector stops accepting, so connection N+1 waits in the kernel's backlog (no TLS handshake,
 * no answer) until one of the N closes, and is then served; the server stays healthy throughout.
 * Everything goes to 127.0.0.1 and every wait is bounded.
 */
class ConnectionLimitTest {

    private static final int LIMIT = 2;
    /** Liveness bound for one answer on a loaded 2-core machine. Not a speed assertion. */
    private static final int TIMEOUT_MILLIS = 20_000;
    /** How long connection N+1 is watched for being served while N are open. */
    private static final long HELD_BACK_SECONDS = 3;
    private static final byte[] WHOAMI = "GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private ServerFixture f;
    private ExecutorService background;

    @BeforeEach
    void start(@TempDir Path dir) {
        f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE, new ServerFixture.Options(null, null, null, LIMIT));
        background = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void stop() {
        if (background != null) {
            background.shutdownNow();
        }
        if (f != null) {
            f.close();
        }
    }

    @Test
    void theConnectionOverTheLimitIsServedOnlyOnceAnotherCloses() throws Exception {
        SSLContext admin = f.sslContext(f.admin());
        RawHttps[] open = new RawHttps[LIMIT];
        try {
            for (int i = 0; i < LIMIT; i++) {
                open[i] = new RawHttps(admin, f.apiPort(), TIMEOUT_MILLIS);
                assertServed(open[i].exchange(WHOAMI), "connection " + (i + 1));
            }

            Future<RawHttps.Outcome> over = background.submit(() -> {
                try (RawHttps extra = new RawHttps(admin, f.apiPort(), TIMEOUT_MILLIS)) {
                    return extra.exchange(WHOAMI);
                }
            });
            assertThatThrownBy(() -> over.get(HELD_BACK_SECONDS, TimeUnit.SECONDS))
                    .as("connection %d is held back while %d are open", LIMIT + 1, LIMIT)
                    .isInstanceOf(TimeoutException.class);
            // The open connections are not disturbed by the one waiting.
            for (int i = 0; i < LIMIT; i++) {
                assertServed(open[i].exchange(WHOAMI), "open connection " + (i + 1) + " while one waits");
            }

            open[0].close();
            assertServed(over.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "connection " + (LIMIT + 1) + " after one closed");
            assertServed(open[1].exchange(WHOAMI), "connection 2 after the swap");
        } finally {
            for (RawHttps c : open) {
                if (c != null) {
                    c.close();
                }
            }
        }

        // All closed: the server accepts again as usual and reports itself healthy.
        try (RawHttps again = new RawHttps(admin, f.apiPort(), TIMEOUT_MILLIS)) {
            assertServed(again.exchange(WHOAMI), "a new connection after all closed");
        }
        HttpResponse<String> health = f.management("GET", "/healthz");
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(f.management("GET", "/readyz").statusCode()).isEqualTo(200);
    }

    private static void assertServed(RawHttps.Outcome outcome, String what) {
        assertThat(outcome.kind()).as("%s: %s", what, outcome.head()).isEqualTo(RawHttps.Kind.ANSWERED);
        assertThat(outcome.status()).as("%s: %s", what, outcome.head()).isEqualTo(200);
    }
}
