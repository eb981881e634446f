package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bytes of an open file are zeroed at release and at revoke, in the very array the server's answer was read into. */
class MountHandlesTest {

    private static boolean zeroed(byte[] value) {
        for (byte b : value) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void releaseZeroesTheValue() {
        OpenHandles handles = new OpenHandles();
        byte[] value = "s3cret".getBytes(StandardCharsets.UTF_8);
        long id = handles.add(new OpenHandles.Handle("a", 1, value));
        ByteBuffer out = ByteBuffer.allocate(16);
        assertThat(handles.get(id).copy(out, 16, 0)).isEqualTo(6);
        handles.release(id);
        assertThat(zeroed(value)).isTrue();
        assertThat(handles.get(id)).isNull();
        assertThat(handles.size()).isZero();
    }

    @Test
    void aRevokedHandleIsZeroedAndRefusesReads() {
        OpenHandles handles = new OpenHandles();
        byte[] kept = "still-granted".getBytes(StandardCharsets.UTF_8);
        byte[] gone = "revoked-value".getBytes(StandardCharsets.UTF_8);
        long keptId = handles.add(new OpenHandles.Handle("kept", 1, kept));
        long goneId = handles.add(new OpenHandles.Handle("gone", 2, gone));

        assertThat(handles.revokeMissing(Tree.of(List.of(new SecretEntry("kept", 1, 1, null))))).isEqualTo(1);
        assertThat(zeroed(gone)).isTrue();
        assertThat(handles.get(goneId).copy(ByteBuffer.allocate(16), 16, 0)).isEqualTo(-1);
        assertThat(zeroed(kept)).isFalse();
        assertThat(handles.get(keptId).copy(ByteBuffer.allocate(16), 16, 6)).isEqualTo(7);
        handles.wipeAll();
        assertThat(zeroed(kept)).isTrue();
    }

    @Test
    void theLayoutHidesVersionFoldersAndLetsAFolderWinOverAFile() {
        Tree tree = Tree.of(List.of(new SecretEntry("app/db", 1, 1, null), new SecretEntry("app/db/password", 3, 3, null),
                new SecretEntry("top", null, 2, null)));
        assertThat(tree.lookup("/")).isInstanceOfSatisfying(Tree.Folder.class,
                f -> assertThat(f.children()).containsExactly("app"));
        assertThat(tree.lookup("/app/db")).isInstanceOf(Tree.Folder.class);
        assertThat(tree.lookup("/app/db@versions/1")).isEqualTo(new Tree.SecretFile(new SecretEntry("app/db", 1, 1, null), 1, false));
        assertThat(tree.lookup("/app/db/password")).isEqualTo(
                new Tree.SecretFile(new SecretEntry("app/db/password", 3, 3, null), 3, true));
        assertThat(tree.lookup("/app/db/password@versions/4")).isNull();
        assertThat(tree.lookup("/app/db/password@versions/01")).isNull();
        // No current version: no file, but its versions stay reachable.
        assertThat(tree.lookup("/top")).isNull();
        assertThat(tree.lookup("/top@versions/2")).isInstanceOf(Tree.SecretFile.class);
        assertThat(tree.lookup("/nothing")).isNull();
    }
}
