package dev.tresor.crypto;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;

/**
 * Where the passphrase that seals a {@code local} key file is read from at start: a file only its
 * owner can read ({@code keyProvider.passphraseFile}) or an environment variable
 * ({@code keyProvider.passphraseEnv}). Never the config itself. The passphrase is the file's first
 * line without its line ending (spaces are part of it).
 */
public record Passphrase(Path file, String environmentVariable) {

    /** The shortest passphrase accepted when a key file is sealed (a load accepts any). */
    public static final int MIN_LENGTH = 12;

    public Passphrase {
        if ((file == null) == (environmentVariable == null)) {
            throw new IllegalArgumentException("give the passphrase as exactly one of a file or an environment variable");
        }
    }

    public static Passphrase fromFile(Path file) {
        return new Passphrase(file, null);
    }

    public static Passphrase fromEnvironment(String variable) {
        return new Passphrase(null, variable);
    }

    /** The passphrase's characters; the caller zeroes them. */
    public char[] read(Map<String, String> environment) {
        if (file != null) {
            try {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
                if (perms.stream().anyMatch(p -> p != PosixFilePermission.OWNER_READ && p != PosixFilePermission.OWNER_WRITE)) {
                    throw new IllegalArgumentException("the passphrase file " + file + " has mode "
                            + PosixFilePermissions.toString(perms) + "; it must be 0600 or 0400 (run: chmod 600 " + file + ")");
                }
                byte[] bytes = Files.readAllBytes(file);
                try {
                    int end = 0;
                    while (end < bytes.length && bytes[end] != '\n' && bytes[end] != '\r') {
                        end++;
                    }
                    if (end == 0) {
                        throw new IllegalArgumentException("the passphrase file " + file + " is empty");
                    }
                    java.nio.CharBuffer chars = StandardCharsets.UTF_8.decode(java.nio.ByteBuffer.wrap(bytes, 0, end));
                    char[] out = new char[chars.remaining()];
                    chars.get(out);
                    java.util.Arrays.fill(chars.array(), '\0');
                    return out;
                } finally {
                    java.util.Arrays.fill(bytes, (byte) 0);
                }
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IllegalArgumentException("the passphrase file " + file + " does not exist", e);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read the passphrase file " + file + ": " + e.getMessage(), e);
            }
        }
        String value = environment.get(environmentVariable);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("the environment variable " + environmentVariable
                    + " (keyProvider.passphraseEnv) that should hold the key file's passphrase is not set");
        }
        return value.toCharArray();
    }

    /** Where it comes from, for messages (never the passphrase). */
    public String source() {
        return file != null ? "the passphrase file " + file + " (keyProvider.passphraseFile)"
                : "the environment variable " + environmentVariable + " (keyProvider.passphraseEnv)";
    }

    /** Refuses a passphrase too short to seal a key file with; says why without echoing it. */
    public static void requireStrongEnough(char[] passphrase, String source) {
        if (passphrase.length < MIN_LENGTH) {
            throw new IllegalArgumentException("the passphrase from " + source + " has " + passphrase.length
                    + " characters; a key file is sealed only with at least " + MIN_LENGTH);
        }
    }
}
