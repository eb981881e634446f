package dev.tresor.mount;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel has mounted where ({@code /proc/self/mountinfo}), and the stale-mount check: a
 * FUSE mount whose process was killed stays in the table and every access to it fails with
 * "Transport endpoint is not connected" (ENOTCONN) until someone runs {@code fusermount3 -u}.
 */
final class MountTable {

    static final String FSTYPE = "fuse.tresor";
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    /** One mount: its point and filesystem type ({@code fuse.tresor} for ours). */
    record Entry(Path mountPoint, String fsType) {}

    private MountTable() {}

    static Optional<Entry> at(Path dir) {
        try {
            for (String line : Files.readAllLines(MOUNTINFO)) {
                String[] fields = line.split(" ");
                int dash = List.of(fields).indexOf("-");
                if (fields.length < 5 || dash < 0 || dash + 1 >= fields.length) {
                    continue;
                }
                if (Path.of(unescape(fields[4])).equals(dir)) {
                    return Optional.of(new Entry(dir, fields[dash + 1]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Mount points are written with spaces, tabs, newlines and backslashes as octal escapes. */
    private static String unescape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 3 < text.length() && text.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(text.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Makes sure {@code dir} can be mounted on: an existing folder, not already a live mount. A
     * stale Tresor mount (its process died) is unmounted here: nothing serves it, so no open file
     * or data can be lost, and the user meant to mount there anyway. A stale mount of anything
     * else is explained, not touched.
     */
    static String prepare(Path dir) throws MountException {
        Optional<Entry> existing = at(dir);
        String note = null;
        if (existing.isPresent()) {
            boolean stale = isStale(dir);
            String type = existing.get().fsType();
            if (!stale) {
                throw new MountException(dir + " is already a mount point (" + type + ")"
                        + (type.equals(FSTYPE) ? ", served by a running tresor mount" : "")
                        + "; unmount it first (fusermount3 -u " + dir + ") or choose another folder");
            }
            if (!type.equals(FSTYPE)) {
                throw new MountException(dir + " is a stale " + type + " mount (Transport endpoint is not connected): "
                        + "its process is gone; run `fusermount3 -u " + dir + "` and mount again");
            }
            String failure = unmount(dir, false);
            if (failure != null) {
                throw new MountException(dir + " is a stale tresor mount left by a killed process (Transport endpoint is "
                        + "not connected) and `fusermount3 -u` failed (" + failure + "); run `fusermount3 -u " + dir
                        + "` yourself and mount again");
            }
            note = "found a stale tresor mount at " + dir + " (its process was killed); unmounted it with fusermount3 -u";
        }
        if (!Files.isDirectory(dir)) {
            throw new MountException(dir + " is not a folder; create an empty folder to mount on (mkdir -p " + dir + ")");
        }
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isPresent()) {
                throw new MountException(dir + " is not empty; mount on an empty folder so no file is hidden under the mount");
            }
        } catch (IOException e) {
            throw new MountException("cannot read " + dir + ": " + e.getMessage());
        }
        return note;
    }

    static boolean isStale(Path dir) {
        try {
            Files.readAttributes(dir, "unix:ino");
            return false;
        } catch (FileSystemException e) {
            return e.getMessage() != null && e.getMessage().contains("Transport endpoint is not connected");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Runs {@code fusermount3 -u [-z] DIR}; null on success, else what it said. */
    static String unmount(Path dir, boolean lazy) {
        try {
            ProcessBuilder builder = lazy ? new ProcessBuilder("fusermount3", "-u", "-z", dir.toString())
                    : new ProcessBuilder("fusermount3", "-u", dir.toString());
            Process process = builder.redirectErrorStream(true).start();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "fusermount3 did not finish within 10 s";
            }
            String output = new String(process.getInputStream().readAllBytes()).strip();
            return process.exitValue() == 0 ? null : "exit " + process.exitValue() + (output.isEmpty() ? "" : ": " + output);
        } catch (IOException e) {
            return "cannot run fusermount3 (" + e.getMessage() + "; apt-get install fuse3)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
