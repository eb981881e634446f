package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping a server (SIGTERM: {@code TresorServer.close}) drains it: a request in flight when the
 * stop begins is finished and answered, a new connection is refused, and the server then stops.
 */
class DrainTest {

    @TempDir
    Path dir;

    @Test
    void aRequestInFlightIsFinishedWhileNewConnectionsAreRefused() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            int port = f.apiPort();
            assertThat(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            byte[] body = "{\"value\":\"written while draining\",\"groups\":[\"app\"]}".getBytes(StandardCharsets.UTF_8);
            try (SSLSocket socket = (SSLSocket) f.sslContext(f.admin()).getSocketFactory().createSocket("localhost", port)) {
                socket.setSoTimeout(30_000);
                socket.startHandshake();
                OutputStream out = socket.getOutputStream();
                out.write(("PUT /v1/secrets/app/drained HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body, 0, 10);
                out.flush();
                // Wait until the server is handling the request (and waiting for the rest of its body).
                long handled = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (f.server().apiRequestsInFlight() == 0) {
                    assertThat(System.nanoTime()).as("the server never started handling the PUT").isLessThan(handled);
                    Thread.onSpinWait();
                }

                CompletableFuture<Void> stopping = CompletableFuture.runAsync(f::stopServer);
                // New connections are refused while the request in flight is still open.
                dev.tresor.testkit.Await.until("the connector stopped accepting", java.time.Duration.ofSeconds(10), () -> {
                    try (Socket probe = new Socket("127.0.0.1", port)) {
                        return false;
                    } catch (java.net.ConnectException e) {
                        return true;
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                assertThat(stopping).isNotDone();

                out.write(body, 10, body.length - 10);
                out.flush();
                InputStream in = socket.getInputStream();
                String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 201").contains("\"version\":1");
                assertThat(answer.toLowerCase(java.util.Locale.ROOT)).contains("connection: close");
                stopping.get(30, TimeUnit.SECONDS);
            }
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"secret.write\"") && l.contains("app/drained"));
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(java.net.ConnectException.class);
        }
    }
}
