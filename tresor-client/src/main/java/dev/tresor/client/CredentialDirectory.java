package dev.tresor.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A folder holding a workload's credentials, replaced atomically.
 *
 * <p>Layout: each version lives in its own folder {@code v-<serial>-<random>/} with {@code key.pem}
 * (0600), {@code cert.pem} (chain, leaf first) and {@code ca.pem} (trust bundle). The symlink
 * {@code current} names the version in use, and {@code key.pem}, {@code cert.pem} and
 * {@code ca.pem} in the folder are fixed symlinks through {@code current}. A new version is
 * written completely (each file fsynced, then its folder), then {@code current} is swapped in one
 * {@code rename(2)} of a new symlink over the old one, and the folder fsynced. So there is never a
 * moment where {@code current} names a key and a certificate that do not match; a reader that
 * resolves {@code current} once (as {@link #load()} does) always reads a matching pair. The
 * previous version is kept (the last good files until the next swap); older ones are removed.
 *
 * <p>{@code server.url} and {@code server-ca.pem} record where the credentials were obtained and
 * which CA the server's TLS certificate is checked against, so renewal needs no flags.
 */
public final class CredentialDirectory {

    static final String CURRENT = "current";
    static final String KEY = "key.pem";
    static final String CERT = "cert.pem";
    static final String BUNDLE = "ca.pem";
    static final String SERVER_URL = "server.url";
    static final String SERVER_CA = "server-ca.pem";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private final Path dir;
    private final SecureRandom random = new SecureRandom();

    public CredentialDirectory(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    /** The stable path of the private key (a symlink through {@code current}). */
    public Path keyFile() {
        return dir.resolve(KEY);
    }

    public Path certificateFile() {
        return dir.resolve(CERT);
    }

    public Path bundleFile() {
        return dir.resolve(BUNDLE);
    }

    /**
     * The credentials {@code current} names, or empty if none were installed yet. {@code current}
     * is resolved once and both files are read from that version; if that version was pruned
     * while being read (two swaps happened meanwhile), it starts again from the new {@code current}.
     */
    public Optional<Credentials> load() {
        Path current = dir.resolve(CURRENT);
        for (int attempt = 1; ; attempt++) {
            Path version;
            try {
                version = dir.resolve(Files.readSymbolicLink(current));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + current + ": " + e.getMessage(), e);
            }
            try {
                return Optional.of(new Credentials(
                        KeyMaterial.parsePrivateKey(Files.readString(version.resolve(KEY), StandardCharsets.US_ASCII)),
                        KeyMaterial.parseCertificates(Files.readString(version.resolve(CERT), StandardCharsets.US_ASCII)),
                        KeyMaterial.parseCertificates(Files.readString(version.resolve(BUNDLE), StandardCharsets.US_ASCII))));
            } catch (NoSuchFileException e) {
                if (attempt >= 10) {
                    throw new UncheckedIOException("the credentials in " + dir + " keep changing while being read", e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the credentials in " + version + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Installs new credentials: writes a new version folder, then swaps {@code current} to it in
     * one rename. On any failure before the swap the current files are untouched (the half-written
     * version folder is removed).
     */
    public void install(Credentials credentials) {
        try {
            createPrivateFolder(dir);
            String name = "v-" + credentials.serial() + "-" + HexFormat.of().formatHex(randomBytes(4));
            Path version = dir.resolve(name);
            Files.createDirectory(version, PosixFilePermissions.asFileAttribute(OWNER_DIR));
            try {
                writeDurably(version.resolve(KEY), KeyMaterial.privateKeyPem(credentials.key()), OWNER_ONLY);
                writeDurably(version.resolve(CERT), KeyMaterial.certificatesPem(credentials.chain()), READABLE);
                writeDurably(version.resolve(BUNDLE), KeyMaterial.certificatesPem(credentials.trustBundle()), READABLE);
                fsync(version);
            } catch (IOException | RuntimeException e) {
                deleteVersion(version);
                throw e;
            }
            try {
                // The stable names (key.pem -> current/key.pem, ...) before the swap: a file in
                // the way stops the install while the current credentials are still untouched.
                for (String fixed : List.of(KEY, CERT, BUNDLE)) {
                    Path stable = dir.resolve(fixed);
                    if (!Files.isSymbolicLink(stable)) {
                        if (Files.exists(stable, LinkOption.NOFOLLOW_LINKS)) {
                            throw new FileAlreadyExistsException(stable.toString(), null,
                                    "a regular file is in the way of the credential symlink; move it away");
                        }
                        Files.createSymbolicLink(stable, Path.of(CURRENT, fixed));
                    }
                }
            } catch (IOException e) {
                deleteVersion(version);
                throw e;
            }
            Optional<Path> previous = currentVersion();
            Path link = dir.resolve(".current-" + HexFormat.of().formatHex(randomBytes(6)));
            Files.createSymbolicLink(link, Path.of(name));
            try {
                Files.move(link, dir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                Files.deleteIfExists(link);
                deleteVersion(version);
                throw e;
            }
            fsync(dir);
            prune(name, previous.map(p -> p.getFileName().toString()).orElse(null));
        } catch (AtomicMoveNotSupportedException e) {
            throw new UncheckedIOException("the file system of " + dir + " cannot swap a symlink atomically", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install credentials in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Records the server's API URL and the CA its TLS certificate is checked against. */
    public void saveServer(ServerEndpoint server) {
        try {
            createPrivateFolder(dir);
            replaceFile(dir.resolve(SERVER_CA), KeyMaterial.certificatesPem(server.trust()), READABLE);
            replaceFile(dir.resolve(SERVER_URL), server.api().toString() + "\n", READABLE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the server address in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The server recorded by {@link #saveServer}, if any. */
    public Optional<ServerEndpoint> server() {
        Path url = dir.resolve(SERVER_URL);
        if (!Files.exists(url)) {
            return Optional.empty();
        }
        try {
            List<X509Certificate> trust = KeyMaterial.parseCertificates(Files.readString(dir.resolve(SERVER_CA)));
            return Optional.of(new ServerEndpoint(java.net.URI.create(Files.readString(url).trim()), trust));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the server address in " + dir + ": " + e.getMessage(), e);
        }
    }

    private Optional<Path> currentVersion() throws IOException {
        try {
            return Optional.of(dir.resolve(Files.readSymbolicLink(dir.resolve(CURRENT))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Removes version folders other than the current and the previous one. */
    private void prune(String keep, String previous) throws IOException {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "v-*")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.equals(keep) && !name.equals(previous) && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    stale.add(entry);
                }
            }
        }
        for (Path entry : stale) {
            deleteVersion(entry);
        }
    }

    private static void deleteVersion(Path version) throws IOException {
        for (String file : List.of(KEY, CERT, BUNDLE)) {
            Files.deleteIfExists(version.resolve(file));
        }
        Files.deleteIfExists(version);
    }

    private static void createPrivateFolder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_DIR));
        }
    }

    private void replaceFile(Path target, String text, Set<PosixFilePermission> mode) throws IOException {
        Path temp = target.resolveSibling("." + target.getFileName() + "." + HexFormat.of().formatHex(randomBytes(6)));
        writeDurably(temp, text, mode);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsync(target.getParent());
    }

    /** Creates the file with its final mode (never readable by others, even briefly), writes and fsyncs it. */
    private static void writeDurably(Path file, String text, Set<PosixFilePermission> mode) throws IOException {
        try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(mode))) {
            var buffer = java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.setPosixFilePermissions(file, mode); // the umask may have narrowed it
    }

    private static void fsync(Path folder) throws IOException {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        random.nextBytes(bytes);
        return bytes;
    }
}
