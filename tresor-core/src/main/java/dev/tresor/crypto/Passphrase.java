package dev.tresor.crypto;

import java.io.Console;
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
 * owner can read ({@code keyProvider.passphraseFile}), an environment variable
 * ({@code keyProvider.passphraseEnv}), or, when the config names neither, a prompt on the terminal
 * ({@link #fromTerminal}). Never the config itself. The passphrase is the file's first line without
 * its line ending (spaces are part of it).
 */
public record Passphrase(Path file, String environmentVariable, Prompt prompt) {

    /**
     * The terminal a passphrase is asked on: the process's console when it is a real terminal
     * ({@link Console#isTerminal()}), else none.
     */
    public interface Terminal {
        /** Whether there is a terminal to ask on. */
        boolean available();

        /** Asks without echo; null at end of input. */
        char[] readPassword(String prompt);

        Terminal SYSTEM = new Terminal() {
            @Override
            public boolean available() {
                Console console = System.console();
                return console != null && console.isTerminal();
            }

            @Override
            public char[] readPassword(String prompt) {
                return System.console().readPassword("%s", prompt);
            }
        };
    }

    /**
     * A passphrase asked on the terminal once per key file, the first time it is needed, and kept
     * for the process's lifetime (also across re-reads of the config): a running server seals the
     * key file of {@code tresor key rotate --kek} with it and re-opens the KEK for a CA rollover, and
     * must not ask on a terminal while it answers a request. {@link #forget} drops a wrong one.
     */
    public static final class Prompt {
        private static final Map<String, char[]> TYPED = new java.util.concurrent.ConcurrentHashMap<>();
        private final String what;
        private final Terminal terminal;

        Prompt(String what, Terminal terminal) {
            this.what = what;
            this.terminal = terminal;
        }

        char[] read() {
            synchronized (TYPED) {
                char[] answer = TYPED.get(what);
                if (answer == null) {
                    answer = ask();
                    TYPED.put(what, answer);
                }
                return answer.clone();
            }
        }

        void forget() {
            char[] dropped = TYPED.remove(what);
            if (dropped != null) {
                java.util.Arrays.fill(dropped, '\0');
            }
        }

        private char[] ask() {
            {
                if (!terminal.available()) {
                    throw new IllegalArgumentException(what + " is sealed by a passphrase and the config names no "
                            + "keyProvider.passphraseFile or keyProvider.passphraseEnv, so it is asked for on the terminal; "
                            + "but there is no terminal here (not started from a TTY, e.g. under systemd or in a "
                            + "container): set keyProvider.passphraseFile (a 0600 file) or keyProvider.passphraseEnv, "
                            + "or start the server from a terminal");
                }
                char[] typed = terminal.readPassword("Passphrase for " + what + ": ");
                if (typed == null || typed.length == 0) {
                    throw new IllegalArgumentException("no passphrase was entered on the terminal for " + what);
                }
                return typed;
            }
        }
    }

    /** The shortest passphrase accepted when a key file is sealed (a load accepts any). */
    public static final int MIN_LENGTH = 12;

    public Passphrase {
        int given = (file == null ? 0 : 1) + (environmentVariable == null ? 0 : 1) + (prompt == null ? 0 : 1);
        if (given != 1) {
            throw new IllegalArgumentException("give the passphrase as exactly one of a file, an environment variable "
                    + "or the terminal");
        }
    }

    public Passphrase(Path file, String environmentVariable) {
        this(file, environmentVariable, null);
    }

    public static Passphrase fromFile(Path file) {
        return new Passphrase(file, null);
    }

    public static Passphrase fromEnvironment(String variable) {
        return new Passphrase(null, variable);
    }

    /** Asked on the process's terminal ({@code what}: e.g. "key file /etc/tresor/kek.json"), once. */
    public static Passphrase fromTerminal(String what) {
        return fromTerminal(what, Terminal.SYSTEM);
    }

    /** As {@link #fromTerminal(String)}, on {@code terminal}. */
    public static Passphrase fromTerminal(String what, Terminal terminal) {
        return new Passphrase(null, null, new Prompt(what, terminal));
    }

    /** After a passphrase did not open its key file: a terminal prompt asks again next time (else nothing to do). */
    public void forget() {
        if (prompt != null) {
            prompt.forget();
        }
    }

    /** The passphrase's characters; the caller zeroes them. */
    public char[] read(Map<String, String> environment) {
        if (prompt != null) {
            return prompt.read();
        }
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
                : prompt != null ? "the terminal (the config names no keyProvider.passphraseFile or passphraseEnv)"
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
