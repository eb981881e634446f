package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Real kernel mounts against a real server, read with java.nio and with {@code cat}/{@code ls}/{@code stat} subprocesses. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MountFilesystemTest {

    private MountRig rig;
    private IssuedCert alice;
    private IssuedCert bob;

    @BeforeAll
    void startServer(@TempDir Path serverDir) {
        rig = new MountRig(serverDir);
        alice = rig.client("alice");
        bob = rig.client("bob");
        rig.group("ga", "alice");
        rig.group("gb", "bob");
        rig.group("gshared", "alice", "bob");
        rig.put("app/db/password", "s3cret-db", "ga");
        rig.put("app/api-key", "key-123", "ga");
        rig.put("other/thing", "bobs-only", "gb");
        rig.put("shared/token", "tok", "gshared");
        rig.put("nobody/hidden", "no-one-reads-this", null);
    }

    @AfterEach
    void unmount() {
        rig.unmountAll();
    }

    @AfterAll
    void stopServer() {
        if (rig != null) {
            rig.close();
        }
    }

    private static List<String> tree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void twoClientsSeeOnlyWhatTheyMayRead(@TempDir Path a, @TempDir Path b) throws Exception {
        rig.mount(rig.settings(alice, a));
        rig.mount(rig.settings(bob, b));

        assertThat(tree(a)).containsExactly("app", "app/api-key", "app/db", "app/db/password", "shared", "shared/token");
        assertThat(tree(b)).containsExactly("other", "other/thing", "shared", "shared/token");
        assertThat(Files.readString(a.resolve("app/db/password"))).isEqualTo("s3cret-db");
        assertThat(Files.readString(b.resolve("other/thing"))).isEqualTo("bobs-only");
        assertThat(Files.exists(a.resolve("other/thing"))).isFalse();
        assertThat(Files.exists(b.resolve("app/db/password"))).isFalse();
        assertThat(Files.exists(a.resolve("nobody/hidden"))).isFalse();

        MountRig.Run cat = MountRig.run("cat", a.resolve("app/api-key").toString());
        assertThat(cat.exit()).as(cat.err()).isZero();
        assertThat(cat.out()).isEqualTo("key-123");
        MountRig.Run ls = MountRig.run("ls", "-A", b.toString());
        assertThat(ls.out().lines().toList()).containsExactly("other", "shared");
        MountRig.Run denied = MountRig.run("cat", b.resolve("app/db/password").toString());
        assertThat(denied.exit()).isNotZero();
        assertThat(denied.err()).contains("No such file or directory");
    }

    @Test
    void statIsRightBeforeOpenFilesAre0400OwnedByTheMounterAndEachOpenIsOneAuditedRead(@TempDir Path a) throws Exception {
        rig.mount(rig.settings(alice, a));
        Path file = a.resolve("app/db/password");

        MountRig.Run stat = MountRig.run("stat", "-c", "%s %a %u %g %F", file.toString());
        assertThat(stat.exit()).as(stat.err()).isZero();
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        assertThat(stat.out().strip()).isEqualTo("9 400 " + uid + " " + gid + " regular file");
        assertThat(Files.size(file)).isEqualTo("s3cret-db".length());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("app")))).isEqualTo("r-x------");

        // The size is known now: a stat costs nothing more, an open exactly one audited read.
        long before = rig.auditedReads("app/db/password");
        Files.size(file);
        MountRig.run("stat", file.toString());
        assertThat(rig.auditedReads("app/db/password")).isEqualTo(before);
        assertThat(MountRig.run("cat", file.toString()).out()).isEqualTo("s3cret-db");
        assertThat(rig.auditedReads("app/db/password")).isEqualTo(before + 1);
        assertThat(Files.readString(file)).isEqualTo("s3cret-db");
        assertThat(rig.auditedReads("app/db/password")).isEqualTo(before + 2);
    }

    @Test
    void theValueIsHeldOnlyWhileAHandleIsOpen(@TempDir Path a) throws Exception {
        TresorMount mount = rig.mount(rig.settings(alice, a));
        OpenHandles handles = mount.fileSystem().handles();
        try (FileChannel channel = FileChannel.open(a.resolve("shared/token"), StandardOpenOption.READ)) {
            assertThat(handles.size()).isEqualTo(1);
            ByteBuffer buffer = ByteBuffer.allocate(16);
            channel.read(buffer);
            assertThat(new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8)).isEqualTo("tok");
        }
        // FUSE sends release after close(2) returns, so wait for it.
        MountRig.await("the handle is released and wiped", () -> handles.size() == 0);
    }

    @Test
    void otherUsersCannotEnterTheMount(@TempDir Path parent) throws Exception {
        // The temp folder is 0700: open it up so only the mount itself stands in the other user's way.
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path a = Files.createDirectory(parent.resolve("mnt"));
        rig.mount(rig.settings(alice, a));
        assertThat(MountRig.run("cat", a.resolve("app/api-key").toString()).out()).isEqualTo("key-123");

        MountRig.Run ls = MountRig.run("runuser", "-u", "nobody", "--", "ls", a.toString());
        assertThat(ls.exit()).isNotZero();
        assertThat(ls.err()).contains("Permission denied");
        MountRig.Run cat = MountRig.run("runuser", "-u", "nobody", "--", "cat", a.resolve("app/api-key").toString());
        assertThat(cat.exit()).isNotZero();
        assertThat(cat.out()).isEmpty();
    }

    @Test
    void theMountIsReadOnly(@TempDir Path a) throws Exception {
        rig.mount(rig.settings(alice, a));
        assertThatThrownBy(() -> Files.writeString(a.resolve("app/db/password"), "x")).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> Files.createFile(a.resolve("new"))).isInstanceOf(IOException.class);
        assertThat(Files.readString(a.resolve("app/db/password"))).isEqualTo("s3cret-db");
    }

    @Test
    void versionsAreReachableUnderNameAtVersions(@TempDir Path a) throws Exception {
        rig.put("ver/key", "one", "ga");
        rig.put("ver/key", "two", null);
        rig.mount(rig.settings(alice, a));

        assertThat(Files.readString(a.resolve("ver/key"))).isEqualTo("two");
        assertThat(Files.readString(a.resolve("ver/key@versions/1"))).isEqualTo("one");
        assertThat(Files.readString(a.resolve("ver/key@versions/2"))).isEqualTo("two");
        assertThat(MountRig.run("ls", a.resolve("ver/key@versions").toString()).out().lines().toList())
                .containsExactly("1", "2");
        assertThat(Files.exists(a.resolve("ver/key@versions/3"))).isFalse();
        // Not listed beside the file: find/grep -r over the mount do not read every old version.
        assertThat(MountRig.run("ls", "-A", a.resolve("ver").toString()).out().lines().toList()).containsExactly("key");
    }

    @Test
    void aNewVersionShowsUpWithoutRemounting(@TempDir Path a) throws Exception {
        rig.put("live/value", "first", "ga");
        assertThat(rig.mount(rig.settings(alice, a)).refreshMode()).startsWith("change feed");
        Path file = a.resolve("live/value");
        assertThat(Files.readString(file)).isEqualTo("first");

        long putAt = System.nanoTime();
        rig.put("live/value", "second-version", null);
        MountRig.await("the new version is what the file shows", () -> read(file).equals("second-version"));
        System.out.printf("PUT -> new version visible in the mount after %d ms%n", (System.nanoTime() - putAt) / 1_000_000);
        assertThat(Files.size(file)).isEqualTo("second-version".length());
        assertThat(MountRig.run("cat", file.toString()).out()).isEqualTo("second-version");
        assertThat(Files.readString(a.resolve("live/value@versions/1"))).isEqualTo("first");
    }

    @Test
    void aNewGrantShowsUpAndARevokeMakesTheFileVanishAndOpenHandlesFailWithEacces(@TempDir Path a) throws Exception {
        rig.put("rev/x", "revoke-me", null);
        rig.mount(rig.settings(alice, a));
        Path file = a.resolve("rev/x");
        assertThat(Files.exists(file)).isFalse();

        rig.grant("ga", "rev/x");
        MountRig.await("the granted secret appears", () -> Files.exists(file));

        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(64);
            assertThat(channel.read(buffer, 0)).isEqualTo("revoke-me".length());

            long revokedAt = System.nanoTime();
            rig.revoke("ga", "rev/x");
            MountRig.await("a read of the open handle fails", () -> {
                try {
                    channel.read(ByteBuffer.allocate(64), 0);
                    return false;
                } catch (IOException e) {
                    assertThat(e.getMessage()).contains("Permission denied");
                    return true;
                }
            });
            // A figure for the report, not an assertion: how long the revoke took to reach the handle.
            System.out.printf("revoke -> EACCES on the open handle after %d ms%n", (System.nanoTime() - revokedAt) / 1_000_000);
            MountRig.await("the revoked file disappears", () -> !Files.exists(file));
        }
        assertThat(MountRig.run("ls", "-A", a.resolve("rev").toString()).exit()).isNotZero();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
