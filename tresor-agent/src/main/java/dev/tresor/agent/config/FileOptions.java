package dev.tresor.agent.config;

import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where and how one output lands: {@code file} (a plain name inside the destination, or null for
 * an env-only output in exec mode), its mode (default 0400), optional owner and group (names or
 * numeric ids), and optional {@code env}: the environment variable exec mode passes it as.
 */
public record FileOptions(String file, Set<PosixFilePermission> mode, String owner, String group, String env) {

    public static final Set<PosixFilePermission> DEFAULT_MODE = PosixFilePermissions.fromString("r--------");

    public FileOptions {
        if (file == null && env == null) {
            throw new IllegalArgumentException("needs a file (or, in exec mode, an env variable)");
        }
        if (file != null && (!file.matches("[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}") || file.equals("..") )) {
            // A plain name: no folders (the destination is one flat tmpfs folder), and never a dot
            // file, because the agent's temporary files start with a dot and are removed at start.
            throw new IllegalArgumentException("file '" + file + "' must be a plain name of [A-Za-z0-9._-], not starting with '.'");
        }
        if (env != null && !env.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("env '" + env + "' is not an environment variable name");
        }
        mode = Set.copyOf(mode == null ? DEFAULT_MODE : mode);
    }

    /** Parses {@code 0400}, {@code 400} or {@code 0o400}. */
    public static Set<PosixFilePermission> parseMode(String text) {
        String digits = text.startsWith("0o") ? text.substring(2) : text;
        if (!digits.matches("0?[0-7]{3}")) {
            throw new IllegalArgumentException("'" + text + "' is not an octal file mode such as \"0400\"");
        }
        int bits = Integer.parseInt(digits, 8);
        StringBuilder s = new StringBuilder();
        String letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            s.append((bits & (1 << (8 - i))) != 0 ? letters.charAt(i) : '-');
        }
        return PosixFilePermissions.fromString(s.toString());
    }

    public String label() {
        return file != null ? file : "$" + env;
    }
}
