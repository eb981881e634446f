package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.testkit.IssuedCert;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server that stops answering or goes away: EIO after the bounded timeout, a clear log line, never a hung read. */
class MountServerDownTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path serverDir;

    private MountRig rig;
    private IssuedCert alice;
    private PrintStream originalErr;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @BeforeEach
    void start() {
        rig = new MountRig(serverDir);
        alice = rig.client("alice");
        rig.group("ga", "alice");
        rig.put("app/db/password", "s3cret-db", "ga");
        // slf4j-simple writes to whatever System.err is at the time: keep a copy to check the log line.
        originalErr = System.err;
        System.setErr(new PrintStream(new TeeStream(originalErr, log), true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() {
        System.setErr(originalErr);
        rig.close();
    }

    @Test
    void aStoppedServerGivesEioAtOnceAndTheTreeStays(@TempDir Path a) throws Exception {
        rig.mount(rig.settings(alice, a).withRequestTimeout(TIMEOUT));
        Path file = a.resolve("app/db/password");
        assertThat(Files.size(file)).isEqualTo(9);

        rig.server.stopServer();
        MountRig.Run cat = MountRig.run("cat", file.toString());
        assertThat(cat.exit()).isNotZero();
        assertThat(cat.err()).contains("Input/output error");
        assertThatThrownBy(() -> Files.readString(file)).isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        // The tree is the last one listed: a transient outage does not make files vanish.
        assertThat(Files.exists(file)).isTrue();
        MountRig.await("the EIO is logged", () -> log.toString(StandardCharsets.UTF_8).contains("open /app/db/password fails with EIO"));
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("cannot reach https://localhost:").doesNotContain("s3cret-db");
    }

    @Test
    void aServerThatStopsAnsweringGivesEioAfterTheTimeoutNotAHang(@TempDir Path a) throws Exception {
        try (StallingProxy proxy = new StallingProxy(rig.server.apiPort())) {
            MountSettings settings = new MountSettings(URI.create("https://localhost:" + proxy.port()),
                    rig.server.sslContext(alice), a, TIMEOUT, Duration.ofMillis(200), null, null);
            rig.mount(settings);
            Path file = a.resolve("app/db/password");
            assertThat(Files.readString(file)).isEqualTo("s3cret-db");

            proxy.stall();
            // Bounded by MountRig.run's deadline: a hang fails the test instead of blocking it.
            MountRig.Run cat = MountRig.run("cat", file.toString());
            assertThat(cat.exit()).isNotZero();
            assertThat(cat.err()).contains("Input/output error");
            MountRig.await("the timeout is logged", () -> log.toString(StandardCharsets.UTF_8)
                    .contains("no answer from https://localhost:" + proxy.port() + " within 2000 ms"));
            rig.unmountAll();
        }
    }

    /** Writes to two streams. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream first;
        private final java.io.OutputStream second;

        TeeStream(java.io.OutputStream first, java.io.OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
