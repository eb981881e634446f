package dev.tresor.tunnel;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.tunnel.proxy.Tunnel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Byte-stream behaviour through a client + server pair: half-close, backpressure, integrity. */
class TunnelStreamTest {

    @TempDir
    Path dir;

    private Fixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new Fixture(dir);
    }

    @AfterEach
    void tearDown() {
        fixture.close();
    }

    @Test
    void halfCloseTravelsThroughTheTlsLegAndTheOtherDirectionStaysOpen() throws Exception {
        halfClose();
    }

    @Test
    void halfCloseWithVirtualThreads() throws Exception {
        fixture.threads = dev.tresor.tunnel.config.TunnelsConfig.Threads.VIRTUAL;
        halfClose();
    }

    @Test
    void backpressureWithVirtualThreads() throws Exception {
        fixture.threads = dev.tresor.tunnel.config.TunnelsConfig.Threads.VIRTUAL;
        aSlowReaderHoldsBackTheSenderAndEveryByteArrivesInOrder();
    }

    private void halfClose() throws Exception {
        try (EchoServer echo = new EchoServer()) {
            Tunnel server = fixture.server(echo.port(), List.of(Fixture.APP), null);
            Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
            try (Socket app = new Socket("127.0.0.1", client.port())) {
                app.setSoTimeout(15_000);
                app.getOutputStream().write("request".getBytes());
                // FIN from the app: the client tunnel sends TLS 1.3 close_notify, the server tunnel a FIN to the target,
                // which only then answers "<eof>" on the still-open way back.
                app.shutdownOutput();
                InputStream in = app.getInputStream();
                assertThat(new String(in.readAllBytes())).isEqualTo("request<eof>");
            }
            Await.until("both tunnels closed the connection", Duration.ofSeconds(10),
                    () -> server.connections().isEmpty() && client.connections().isEmpty());
        }
    }

    @Test
    void aSlowReaderHoldsBackTheSenderAndEveryByteArrivesInOrder() throws Exception {
        CountDownLatch startReading = new CountDownLatch(1);
        try (ServerSocket target = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            // Own threads: the common pool has a single thread on a 2-core machine, and these two tasks block.
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (Socket s = target.accept()) {
                    s.setReceiveBufferSize(64 * 1024);
                    startReading.await(60, TimeUnit.SECONDS);
                    MessageDigest sha = MessageDigest.getInstance("SHA-256");
                    byte[] buffer = new byte[65536];
                    InputStream in = s.getInputStream();
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        sha.update(buffer, 0, n);
                    }
                    return HexFormat.of().formatHex(sha.digest());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, threads);
            Tunnel server = fixture.server(target.getLocalPort(), List.of(Fixture.APP), null);
            Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
            byte[] chunk = new byte[1024 * 1024];
            new Random(42).nextBytes(chunk);
            int chunks = 64;
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            try (Socket app = new Socket("127.0.0.1", client.port())) {
                OutputStream out = app.getOutputStream();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < chunks; i++) {
                            out.write(chunk);
                        }
                        app.shutdownOutput();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, threads);
                for (int i = 0; i < chunks; i++) {
                    sent.update(chunk);
                }
                // The target reads nothing yet: the writer must block long before 64 MiB are buffered anywhere.
                Thread.sleep(1500);
                assertThat(writer).isNotDone();
                assertThat(server.metrics().bytesInCount()).isLessThan(32.0 * 1024 * 1024);
                startReading.countDown();
                writer.get(120, TimeUnit.SECONDS);
                assertThat(received.get(120, TimeUnit.SECONDS)).isEqualTo(HexFormat.of().formatHex(sent.digest()));
            }
        }
    }

}
