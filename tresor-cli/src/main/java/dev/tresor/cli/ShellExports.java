package dev.tresor.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/** The {@code export TRESOR_...=...} lines a user pastes into a shell to act as some client. */
final class ShellExports {

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_./:@%+=,-]+");

    private ShellExports() {}

    static List<String> lines(String address, Path cert, Path key, Path ca) {
        return List.of(
                "export " + ConnectionResolver.ADDR + "=" + quote(address),
                "export " + ConnectionResolver.CERT + "=" + quote(cert.toString()),
                "export " + ConnectionResolver.KEY + "=" + quote(key.toString()),
                "export " + ConnectionResolver.CA + "=" + quote(ca.toString()));
    }

    /** Quotes only when needed, so the common case stays readable and copy-pasteable. */
    static String quote(String value) {
        if (SAFE.matcher(value).matches()) {
            return value;
        }
        return "'" + value.replace("'", "'\\''") + "'";
    }
}
