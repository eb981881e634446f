package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.IssuedCert;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The mount in its own process: SIGTERM/SIGINT unmount cleanly; a SIGKILLed mount's stale mount point is cleared at the next mount. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MountSignalTest {

    private MountRig rig;
    private Path pem;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> mountPoints = new ArrayList<>();

    @BeforeAll
    void startServer(@TempDir Path serverDir, @TempDir Path pemDir) {
        rig = new MountRig(serverDir);
        IssuedCert alice = rig.client("alice");
        rig.group("ga", "alice");
        rig.put("app/db/password", "s3cret-db", "ga");
        pem = pemDir;
        alice.writePem(pemDir, "alice");
        rig.server.pki().writeCaPem(pemDir.resolve("ca.pem"));
    }

    /** Kills what a failed test left running and lazily unmounts its mount point, so nothing outlives the test. */
    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        processes.clear();
        rig.unmountAll();
        for (Path dir : mountPoints) {
            if (MountTable.at(dir).isPresent()) {
                MountTable.unmount(dir, true);
            }
        }
        mountPoints.clear();
    }

    @AfterAll
    void stopServer() {
        if (rig != null) {
            rig.close();
        }
    }

    private record Mounted(Process process, List<String> output) {}

    private Mounted mountInSubprocess(Path dir) throws IOException {
        mountPoints.add(dir);
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, MountMain.class.getName(),
                rig.address().toString(), pem.resolve("alice.crt").toString(), pem.resolve("alice.key").toString(),
                pem.resolve("ca.pem").toString(), dir.toString())
                .redirectErrorStream(true).start();
        processes.add(process);
        List<String> output = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException e) {
                // The process ended.
            }
        });
        MountRig.await("the subprocess mounted: " + output, () -> {
            assertThat(process.isAlive()).as("mount process died: " + output).isTrue();
            return output.stream().anyMatch(l -> l.startsWith("mounted"));
        });
        return new Mounted(process, output);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT"})
    void aSignalUnmountsCleanly(String signal, @TempDir Path dir) throws Exception {
        Mounted mounted = mountInSubprocess(dir);
        assertThat(Files.readString(dir.resolve("app/db/password"))).isEqualTo("s3cret-db");
        assertThat(MountTable.at(dir)).map(MountTable.Entry::fsType).contains(MountTable.FSTYPE);

        assertThat(MountRig.run("kill", "-" + signal, Long.toString(mounted.process().pid())).exit()).isZero();
        assertThat(mounted.process().waitFor(MountRig.DEADLINE.toSeconds(), TimeUnit.SECONDS))
                .as("the mount process exits on SIG" + signal + ": " + mounted.output()).isTrue();
        assertThat(MountTable.at(dir)).as("nothing left mounted at " + dir).isEmpty();
        assertThat(MountTable.isStale(dir)).isFalse();
        try (var entries = Files.list(dir)) {
            assertThat(entries).as("the mount point is an empty folder again").isEmpty();
        }
        assertThat(mounted.output()).anyMatch(l -> l.contains("unmounted " + dir));
    }

    @Test
    void aStaleMountOfAKilledProcessIsDetectedAndClearedAtTheNextMount(@TempDir Path dir) throws Exception {
        Mounted mounted = mountInSubprocess(dir);
        mounted.process().destroyForcibly();
        assertThat(mounted.process().waitFor(MountRig.DEADLINE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(MountTable.at(dir)).as("SIGKILL leaves the mount in the table").isPresent();
        assertThat(MountTable.isStale(dir)).as("and every access fails with ENOTCONN").isTrue();

        TresorMount again = rig.mount(rig.settings(rig.server.pki().client("spiffe://tresor.test/mount-test/alice"), dir));
        assertThat(again.note()).contains("stale tresor mount", "fusermount3 -u");
        assertThat(Files.readString(dir.resolve("app/db/password"))).isEqualTo("s3cret-db");
    }

    @Test
    void anUnmountFromOutsideEndsTheProcess(@TempDir Path dir) throws Exception {
        Mounted mounted = mountInSubprocess(dir);
        assertThat(MountRig.run("fusermount3", "-u", dir.toString()).exit()).isZero();
        assertThat(mounted.process().waitFor(MountRig.DEADLINE.toSeconds(), TimeUnit.SECONDS))
                .as("the mount process exits once its mount is gone: " + mounted.output()).isTrue();
        assertThat(mounted.output()).anyMatch(l -> l.contains("was unmounted from outside"));
        assertThat(MountTable.at(dir)).isEmpty();
    }

    @Test
    void aMountPointReachedThroughASymlinkIsWatchedAndUnmountedByItsRealPath(@TempDir Path parent) throws Exception {
        Path real = Files.createDirectory(parent.resolve("real"));
        Path link = Files.createSymbolicLink(parent.resolve("link"), real);
        mountPoints.add(real);
        TresorMount mount = rig.mount(rig.settings(rig.server.pki().client("spiffe://tresor.test/mount-test/alice"), link));
        assertThat(mount.mountPoint()).isEqualTo(real);
        assertThat(Files.readString(link.resolve("app/db/password"))).isEqualTo("s3cret-db");
        mount.close();
        assertThat(MountTable.at(real)).isEmpty();
    }

    @Test
    void aLiveMountIsNotMountedOver(@TempDir Path dir) throws Exception {
        mountInSubprocess(dir);
        IssuedCert alice = rig.server.pki().client("spiffe://tresor.test/mount-test/alice");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rig.mount(rig.settings(alice, dir)))
                .isInstanceOf(MountException.class).hasMessageContaining("already a mount point")
                .hasMessageContaining("fusermount3 -u " + dir);
    }
}
