package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigLoader;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code TRESOR_ADDR} with several nodes: a node that refuses connections is skipped for reads and
 * writes alike (nothing was sent to it); every write carries an Idempotency-Key, so a write is
 * never applied twice; a malformed entry in the list is named.
 */
class FailoverCliTest {

    @TempDir
    Path tmp;

    /** A loopback port nobody listens on (bound, then closed). */
    private static int deadPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aDeadFirstNodeIsSkippedAndAWriteIsAppliedOnce() throws Exception {
        Path folder = tmp.resolve("server");
        DataFolder data = new DataFolder(folder);
        DataFolder.AdminCredentials credentials = data.create(new DataFolder.Options("tresor.test", "127.0.0.1:0",
                "127.0.0.1:0", List.of(), "admin", Duration.ofDays(1), null), Clock.systemUTC());
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            Map<String, String> env = new HashMap<>();
            env.put("TRESOR_ADDR", "https://127.0.0.1:" + deadPort() + ", https://127.0.0.1:" + server.apiPort());
            env.put("TRESOR_CERT", credentials.cert().toString());
            env.put("TRESOR_KEY", credentials.key().toString());
            env.put("TRESOR_CA", credentials.ca().toString());

            assertThat(CliHarness.run(env, tmp, "group", "create", "app").exitCode()).isZero();
            CliHarness.Run put = CliHarness.run(env, tmp, "secret", "put", "app/pw", "--value", "s3cret", "--group", "app");
            assertThat(put.exitCode()).as(put.err()).isZero();
            assertThat(put.out()).contains("stored app/pw version 1");
            CliHarness.Run versions = CliHarness.run(env, tmp, "secret", "versions", "app/pw", "-o", "json");
            assertThat(versions.exitCode()).as(versions.err()).isZero();
            assertThat(versions.out()).contains("\"version\" : 1").doesNotContain("\"version\" : 2");
            CliHarness.Run list = CliHarness.run(env, tmp, "secret", "list");
            assertThat(list.exitCode()).as(list.err()).isZero();
            assertThat(list.out()).contains("app/pw");

            // Only dead nodes: the error names the last address tried.
            int dead = deadPort();
            env.put("TRESOR_ADDR", "https://127.0.0.1:" + deadPort() + ",https://127.0.0.1:" + dead);
            CliHarness.Run none = CliHarness.run(env, tmp, "secret", "list");
            assertThat(none.exitCode()).isNotZero();
            assertThat(none.err()).contains("127.0.0.1:" + dead).doesNotContain("\tat ");

            env.put("TRESOR_ADDR", "https://127.0.0.1:" + server.apiPort() + ",http://127.0.0.1:1");
            CliHarness.Run plain = CliHarness.run(env, tmp, "secret", "list");
            assertThat(plain.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(plain.err()).contains("http://127.0.0.1:1").contains("HTTPS");
        }
    }
}
