package dev.tresor.crypto;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.EnumSet;
import java.util.Set;

/**
 * KEK held in a local Tink keyset file (AES-256-GCM), readable by the owner only (mode 0600).
 * The file is created atomically; loading refuses a file that group or others can read, because
 * such a key has already leaked in the eyes of an auditor.
 */
public final class LocalKeyProvider implements KeyProvider {

    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final String keyId;
    private final Aead kek;

    private LocalKeyProvider(String keyId, Aead kek) {
        this.keyId = keyId;
        this.kek = kek;
    }

    /** Creates a new key file; fails if one exists, so a KEK is never silently replaced. */
    public static LocalKeyProvider create(Path file) {
        TinkRuntime.ensureRegistered();
        try {
            KeysetHandle handle = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
            writeNew(file, TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get()));
            return fromHandle(handle);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate KEK", e);
        }
    }

    /**
     * Creates a new key file sealed by {@code passphrase} (Argon2id with RFC 9106's second
     * recommended parameters, 64 MiB: the first, 2 GiB, is too much beside a server on a small
     * machine). The caller zeroes the passphrase.
     */
    public static LocalKeyProvider createSealed(Path file, char[] passphrase) {
        return createSealed(file, passphrase, SealedKeyFile.Argon2id.RFC9106_SECOND);
    }

    static LocalKeyProvider createSealed(Path file, char[] passphrase, SealedKeyFile.Argon2id cost) {
        TinkRuntime.ensureRegistered();
        try {
            KeysetHandle handle = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
            writeNew(file, SealedKeyFile.seal(handle, passphrase, cost));
            return fromHandle(handle);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate or seal the KEK", e);
        }
    }

    /** Loads a key file sealed by a passphrase (a plain key file loads too; the passphrase is then unused). */
    public static LocalKeyProvider load(Path file, char[] passphrase) {
        return load(file, passphrase, true);
    }

    /** Writes a new owner-only file atomically; refuses to replace one. */
    private static void writeNew(Path file, String json) {
        try {
            if (Files.exists(file)) {
                throw new FileAlreadyExistsException(file.toString(), null, "refusing to overwrite an existing key file");
            }
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".kek", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try {
                Files.writeString(tmp, json, StandardCharsets.UTF_8);
                try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create key file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Loads an existing key file, refusing one that is readable by group or others. */
    public static LocalKeyProvider load(Path file) {
        return load(file, null, false);
    }

    private static LocalKeyProvider load(Path file, char[] passphrase, boolean passphraseGiven) {
        try {
            return fromHandle(readHandle(file, passphrase, passphraseGiven));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("key file " + file + " is not a valid Tink AEAD keyset", e);
        }
    }

    private static KeysetHandle readHandle(Path file, char[] passphrase, boolean passphraseGiven) {
        TinkRuntime.ensureRegistered();
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(p -> !OWNER_ONLY.contains(p))) {
                throw new IllegalArgumentException("key file " + file + " has mode "
                        + PosixFilePermissions.toString(perms) + "; it must be 0600 (run: chmod 600 " + file + ")");
            }
            String json = Files.readString(file, StandardCharsets.UTF_8);
            if (SealedKeyFile.isSealed(json)) {
                if (!passphraseGiven) {
                    throw new IllegalArgumentException("key file " + file + " is sealed by a passphrase; give the passphrase");
                }
                try {
                    return SealedKeyFile.open(json, passphrase);
                } catch (GeneralSecurityException e) {
                    throw new IllegalArgumentException("the passphrase does not open key file " + file
                            + " (wrong passphrase, or the file was altered)", e);
                }
            }
            return TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("key file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read key file " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("key file " + file + " is not a valid Tink AEAD keyset", e);
        }
    }

    /** Whether {@code file} is a key file sealed by a passphrase (it is read, not opened). */
    public static boolean isSealed(Path file) {
        try {
            return SealedKeyFile.isSealed(Files.readString(file, StandardCharsets.UTF_8));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("key file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Re-seals an existing key file under {@code newPassphrase}, keeping the same key (and key id):
     * opened with {@code oldPassphrase} if it is sealed (a clear file is sealed for the first time),
     * then replaced atomically. Nothing else changes: what the KEK wraps stays as it is. The caller
     * zeroes both passphrases.
     */
    public static LocalKeyProvider reseal(Path file, char[] oldPassphrase, char[] newPassphrase) {
        return reseal(file, oldPassphrase, newPassphrase, SealedKeyFile.Argon2id.RFC9106_SECOND);
    }

    static LocalKeyProvider reseal(Path file, char[] oldPassphrase, char[] newPassphrase, SealedKeyFile.Argon2id cost) {
        KeysetHandle handle = readHandle(file, oldPassphrase, true);
        try {
            String sealed = SealedKeyFile.seal(handle, newPassphrase, cost);
            Path next = file.resolveSibling(file.getFileName() + ".reseal");
            Files.deleteIfExists(next);
            writeNew(next, sealed);
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return fromHandle(handle);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace key file " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal the KEK", e);
        }
    }

    private static LocalKeyProvider fromHandle(KeysetHandle handle) throws GeneralSecurityException {
        Aead aead = PooledKekAead.of(handle, handle.getPrimitive(TinkRuntime.configuration(), Aead.class));
        String id = "local:" + Integer.toUnsignedString(handle.getPrimary().getId());
        return new LocalKeyProvider(id, aead);
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public Aead kek() {
        return kek;
    }
}
