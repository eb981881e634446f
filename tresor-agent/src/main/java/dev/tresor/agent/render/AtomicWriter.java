package dev.tresor.agent.render;

import dev.tresor.agent.config.FileOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Replaces a file so that a reader sees the old content or the new, never a mix or a prefix:
 * the bytes go to a temporary file in the same folder (created 0600, so nobody else can open it
 * while it fills), which is fsynced, given its owner, group and mode, and renamed over the target
 * in one {@code rename(2)}; then the folder is fsynced. A crash at any instant leaves at most a
 * temporary file, which {@link Destination#open} removes at the next start.
 */
public final class AtomicWriter {

    private final Destination destination;
    private final WriteHook hook;
    private final SecureRandom random = new SecureRandom();

    public AtomicWriter(Destination destination, WriteHook hook) {
        this.destination = destination;
        this.hook = hook;
    }

    public Path path(String file) {
        return destination.dir().resolve(file);
    }

    public void write(FileOptions options, byte[] content) throws IOException {
        Path target = path(options.file());
        byte[] suffix = new byte[6];
        random.nextBytes(suffix);
        Path temp = destination.dir().resolve(Destination.TEMP_PREFIX + options.file() + "-"
                + HexFormat.of().formatHex(suffix) + Destination.TEMP_SUFFIX);
        try {
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                int half = content.length / 2;
                writeFully(channel, ByteBuffer.wrap(content, 0, half));
                hook.halfWritten(temp);
                writeFully(channel, ByteBuffer.wrap(content, half, content.length - half));
                channel.force(true);
            }
            PosixFileAttributeView view = Files.getFileAttributeView(temp, PosixFileAttributeView.class);
            UserPrincipalLookupService lookup = temp.getFileSystem().getUserPrincipalLookupService();
            if (options.owner() != null) {
                UserPrincipal owner = lookup.lookupPrincipalByName(options.owner());
                view.setOwner(owner);
            }
            if (options.group() != null) {
                GroupPrincipal group = lookup.lookupPrincipalByGroupName(options.group());
                view.setGroup(group);
            }
            view.setPermissions(options.mode());
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        fsyncFolder();
    }

    /** Removes the file; true if it was there. */
    public boolean remove(String file) throws IOException {
        boolean existed = Files.deleteIfExists(path(file));
        if (existed) {
            fsyncFolder();
        }
        return existed;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private void fsyncFolder() throws IOException {
        try (FileChannel folder = FileChannel.open(destination.dir(), StandardOpenOption.READ)) {
            folder.force(true);
        }
    }
}
