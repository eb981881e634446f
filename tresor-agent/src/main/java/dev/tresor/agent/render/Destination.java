package dev.tresor.agent.render;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The folder the agent renders into. Secrets must live in memory only (SPEC §2.6), so the folder
 * must be on tmpfs or ramfs: a disk-backed folder keeps the value in the page cache, on the disk
 * and in its backups long after the file is removed. {@code --allow-disk} is the explicit way out
 * (a developer laptop, a disk that is itself encrypted and wiped).
 */
public final class Destination {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Destination.class);

    /** File systems whose files exist in memory only. */
    static final Set<String> MEMORY_BACKED = Set.of("tmpfs", "ramfs");
    /** Prefix of the agent's temporary files; a file name from the config can never start with a dot. */
    static final String TEMP_PREFIX = ".tresor-agent-";
    static final String TEMP_SUFFIX = ".tmp";

    private final Path dir;

    private Destination(Path dir) {
        this.dir = dir;
    }

    /**
     * Checks the file system (before creating anything on it), creates the folder if needed, and
     * removes temporary files an agent killed mid-write left behind.
     *
     * @throws IllegalArgumentException if the folder is not memory-backed and {@code allowDisk} is false
     */
    public static Destination open(Path dir, boolean allowDisk) {
        Path absolute = dir.toAbsolutePath().normalize();
        try {
            Path existing = absolute;
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            String type = Files.getFileStore(existing).type();
            if (!allowDisk && !MEMORY_BACKED.contains(type.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("destination " + absolute + " is on a '" + type + "' file system, "
                        + "not tmpfs or ramfs: secrets written there would reach the disk (and its backups) and outlive "
                        + "the agent. Use a memory-backed folder (/dev/shm/..., /run/..., a Kubernetes emptyDir with "
                        + "medium: Memory), or pass --allow-disk if a disk is really intended");
            }
            if (!Files.isDirectory(absolute)) {
                // Readable and traversable by the app's user; the files themselves carry their own mode.
                Files.createDirectories(absolute, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            }
            Destination destination = new Destination(absolute);
            destination.removeLeftovers();
            return destination;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare destination " + absolute + ": " + e.getMessage(), e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Temporary files of an earlier agent that died between creating and renaming them. */
    public List<Path> leftovers() throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, TEMP_PREFIX + "*" + TEMP_SUFFIX)) {
            entries.forEach(out::add);
        }
        return out;
    }

    private void removeLeftovers() throws IOException {
        for (Path leftover : leftovers()) {
            Files.deleteIfExists(leftover);
            LOG.info("removed {}, left by an agent that stopped while writing it", leftover.getFileName());
        }
    }
}
