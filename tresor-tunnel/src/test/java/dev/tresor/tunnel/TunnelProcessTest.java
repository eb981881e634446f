package dev.tresor.tunnel;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.tunnel.cli.TunnelMain;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The tunnel as a real process ({@code java -cp … TunnelMain --config tunnels.yaml}, a server and
 * a client tunnel in front of a real Redis): killed with SIGKILL while an app is connected, and
 * stopped with SIGTERM, which drains.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelProcessTest {

    private Path root;
    private Daemons.Daemon redis;
    private Fixture fixture;
    private Process tunnel;
    private int clientPort;
    private Path config;

    @BeforeAll
    void startRedis() throws Exception {
        root = Files.createTempDirectory("tresor-tunnel-proc-");
        redis = Daemons.redis(root.resolve("redis"));
    }

    @AfterAll
    void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void writeConfig() throws Exception {
        fixture = new Fixture(Files.createTempDirectory(root, "pki-"));
        clientPort = Daemons.freePort();
        int serverPort = Daemons.freePort();
        config = fixture.dir.resolve("tunnels.yaml");
        Files.writeString(config, """
                drainTimeout: %s
                tunnels:
                  - name: redis-server
                    mode: server
                    listen: 127.0.0.1:%d
                    target: 127.0.0.1:%d
                    allow: [%s]
                    cert: server.crt
                    key: server.key
                    caBundle: ca.pem
                  - name: redis-client
                    mode: client
                    listen: 127.0.0.1:%d
                    target: 127.0.0.1:%d
                    expect: [%s]
                    cert: client.crt
                    key: client.key
                    caBundle: ca.pem
                """.formatted("DRAIN", serverPort, redis.port(), Fixture.APP, clientPort, serverPort, Fixture.DB));
    }

    @AfterEach
    void stopTunnel() throws InterruptedException {
        if (tunnel != null && tunnel.isAlive()) {
            tunnel.destroyForcibly();
            tunnel.waitFor(20, TimeUnit.SECONDS);
        }
        fixture.close();
    }

    private Process start(String drainTimeout) throws IOException, InterruptedException {
        Files.writeString(config, Files.readString(config).replaceFirst("drainTimeout: .*", "drainTimeout: " + drainTimeout));
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = Files.createTempFile(fixture.dir, "tunnel-", ".log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath, TunnelMain.class.getName(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("ready")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("the tunnel process did not become ready:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return process;
    }

    private String publish(String message) throws Exception {
        return Daemons.run(root, List.of("/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(redis.port()),
                "PUBLISH", "news", message)).output().strip();
    }

    private void ping() throws IOException {
        try (Resp probe = new Resp(clientPort)) {
            probe.send("PING");
            probe.expect("+PONG");
        }
    }

    @Test
    void killMinus9ClosesTheAppsConnectionAndARestartedTunnelServesNewOnes() throws Exception {
        tunnel = start("20s");
        try (Resp subscriber = new Resp(clientPort)) {
            subscriber.send("SUBSCRIBE news");
            subscriber.expect("news");
            assertThat(publish("before")).isEqualTo("1");
            subscriber.expect("before");

            new ProcessBuilder("kill", "-9", String.valueOf(tunnel.pid())).start().waitFor(10, TimeUnit.SECONDS);
            assertThat(tunnel.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(tunnel.exitValue()).isEqualTo(137);
            assertThat(subscriber.closedByPeer()).isTrue();
        }
        // Redis noticed too: nobody is subscribed any more.
        Await.until("redis dropped the subscriber", Duration.ofSeconds(10), () -> {
            try {
                return publish("nobody").equals("0");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        tunnel = start("20s");
        ping();
    }

    @Test
    void sigtermRefusesNewConnectionsAndLetsOpenOnesFinish() throws Exception {
        tunnel = start("30s");
        try (Resp subscriber = new Resp(clientPort)) {
            subscriber.send("SUBSCRIBE news");
            subscriber.expect("news");
            tunnel.destroy(); // SIGTERM
            Await.until("new connections are refused", Duration.ofSeconds(15), () -> {
                try (Socket ignored = new Socket("127.0.0.1", clientPort)) {
                    return false;
                } catch (ConnectException refused) {
                    return true;
                } catch (IOException other) {
                    return false;
                }
            });
            // The open connection keeps working while the process drains.
            assertThat(tunnel.isAlive()).isTrue();
            assertThat(publish("while-draining")).isEqualTo("1");
            subscriber.expect("while-draining");
        }
        // The app closed its connection: the drain is complete and the process exits without waiting for the deadline.
        assertThat(tunnel.waitFor(25, TimeUnit.SECONDS)).as("exited once drained").isTrue();
        assertThat(tunnel.exitValue()).isEqualTo(143);
    }

    @Test
    void sigtermClosesWhatIsStillOpenAtTheDeadline() throws Exception {
        tunnel = start("1s");
        try (Resp subscriber = new Resp(clientPort)) {
            subscriber.send("SUBSCRIBE news");
            subscriber.expect("news");
            tunnel.destroy();
            assertThat(tunnel.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(subscriber.closedByPeer()).isTrue();
        }
        assertThatThrownBy(() -> new Socket("127.0.0.1", clientPort).close()).isInstanceOf(ConnectException.class);
    }
}
