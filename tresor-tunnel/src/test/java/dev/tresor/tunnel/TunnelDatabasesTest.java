package dev.tresor.tunnel;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.tunnel.proxy.ConnectionInfo;
import dev.tresor.tunnel.proxy.Tunnel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The real clients (mariadb, redis-cli) through a client + server tunnel pair, and certificate renewal under a live connection. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelDatabasesTest {

    private Path root;
    private Daemons.Daemon mariadb;
    private Daemons.Daemon redis;
    private Fixture fixture;

    @BeforeAll
    void startDaemons() throws Exception {
        root = Files.createTempDirectory("tresor-tunnel-db-");
        mariadb = Daemons.mariadb(root.resolve("mariadb"));
        redis = Daemons.redis(root.resolve("redis"));
    }

    @AfterAll
    void stopDaemons() {
        if (mariadb != null) {
            mariadb.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void pki() throws Exception {
        fixture = new Fixture(Files.createTempDirectory(root, "pki-"));
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    private Daemons.Result redisCli(int port, String... command) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("/usr/bin/redis-cli", "-h", "127.0.0.1", "-p",
                String.valueOf(port)));
        args.addAll(List.of(command));
        return Daemons.run(root, args);
    }

    @Test
    void mariadbClientQueriesThroughThePair() throws Exception {
        Tunnel server = fixture.server(mariadb.port(), List.of(Fixture.APP), null);
        Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
        Daemons.Result result = Daemons.run(root, List.of("/usr/bin/mariadb", "--no-defaults", "--protocol=TCP",
                "-h127.0.0.1", "-P" + client.port(), "-u" + Daemons.DB_USER, "-p" + Daemons.DB_PASSWORD, "app",
                "--batch", "--skip-column-names", "-e",
                "CREATE TABLE IF NOT EXISTS notes (id INT PRIMARY KEY, body TEXT); "
                        + "REPLACE INTO notes VALUES (1, 'through the tunnel'); "
                        + "SELECT body FROM notes WHERE id = 1; SELECT REPEAT('x', 200000) = REPEAT('x', 200000);"));
        assertThat(result.exit()).as(result.output()).isZero();
        assertThat(result.output()).contains("through the tunnel").contains("1");
        assertThat(server.metrics().acceptedCount()).isEqualTo(1);
        assertThat(client.metrics().acceptedCount()).isEqualTo(1);
    }

    @Test
    void redisCliCommandsThroughThePair() throws Exception {
        Tunnel server = fixture.server(redis.port(), List.of(Fixture.APP), null);
        Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
        assertThat(redisCli(client.port(), "SET", "greeting", "hello tunnel").output()).contains("OK");
        assertThat(redisCli(client.port(), "GET", "greeting").output().strip()).isEqualTo("hello tunnel");
        assertThat(redisCli(client.port(), "PING").output().strip()).isEqualTo("PONG");
        // Nothing without the tunnel client: the server tunnel speaks only TLS.
        Daemons.Result plain = redisCli(server.port(), "PING");
        assertThat(plain.output()).doesNotContain("PONG");
    }

    @Test
    void aSubscriptionSurvivesRenewalOfBothSidesAndNewConnectionsUseTheNewCertificates() throws Exception {
        Tunnel server = fixture.server(redis.port(), List.of(Fixture.APP), null);
        Tunnel client = fixture.client(server.port(), List.of(Fixture.DB));
        try (Resp subscriber = new Resp(client.port())) {
            subscriber.send("SUBSCRIBE news");
            subscriber.expect("news");
            ConnectionInfo before = server.connections().getFirst();

            IssuedCert newServer = fixture.pki.workload(Fixture.DB);
            IssuedCert newClient = fixture.pki.workload(Fixture.APP);
            WorkloadPki.write(fixture.dir, "server", newServer);
            WorkloadPki.write(fixture.dir, "client", newClient);
            String serverSerial = newServer.certificate().getSerialNumber().toString(16);
            String clientSerial = newClient.certificate().getSerialNumber().toString(16);

            // A new connection, once the files are reloaded, shows the new certificate on both sides.
            Await.until("a new connection with both new certificates", Duration.ofSeconds(15), () -> {
                try (Resp probe = new Resp(client.port())) {
                    probe.send("PING");
                    probe.expect("+PONG");
                    ConnectionInfo atServer = server.connections().stream().filter(c -> c.id() != before.id())
                            .findFirst().orElseThrow();
                    ConnectionInfo atClient = client.connections().stream().filter(c -> c.id() != 1).findFirst()
                            .orElseThrow();
                    return atServer.peerSerial().equals(clientSerial) && atServer.localSerial().equals(serverSerial)
                            && atClient.peerSerial().equals(serverSerial) && atClient.localSerial().equals(clientSerial);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });

            // The subscription made before the renewal still delivers.
            assertThat(redisCli(redis.port(), "PUBLISH", "news", "after-renewal").output().strip()).isEqualTo("1");
            subscriber.expect("after-renewal");
            ConnectionInfo still = server.connections().stream().filter(c -> c.id() == before.id()).findFirst().orElseThrow();
            assertThat(still.peerSerial()).isEqualTo(before.peerSerial()).isNotEqualTo(clientSerial);

            // A broken replacement is refused; the last good certificate stays in use.
            Files.writeString(fixture.serverFiles.certificate(), "-----BEGIN CERTIFICATE-----\nbroken\n");
            Await.until("the broken file is refused", Duration.ofSeconds(10),
                    () -> server.metrics().reloadCount("certificate", "failed") >= 1);
            try (Resp probe = new Resp(client.port())) {
                probe.send("PING");
                probe.expect("+PONG");
                assertThat(client.connections().stream().map(ConnectionInfo::peerSerial)).contains(serverSerial);
            }
            assertThat(redisCli(redis.port(), "PUBLISH", "news", "after-broken-file").output().strip()).isEqualTo("1");
            subscriber.expect("after-broken-file");
        }
    }
}
