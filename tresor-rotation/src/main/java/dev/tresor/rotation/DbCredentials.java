package dev.tresor.rotation;

import java.util.regex.Pattern;

/**
 * A database login as stored in Tresor: user name, password, where to connect. The password never
 * appears in {@link #toString()}, so logs, exceptions and step lines cannot carry it.
 */
public record DbCredentials(String username, String password, String host, int port, String dbname) {

    /** Safe to splice into SQL between quotes on both MariaDB and PostgreSQL; also what both accept without quoting. */
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:_-]{1,253}");

    /** Checks every field, naming {@code where} (e.g. "slot secret openemr/db field B") in the error. */
    public DbCredentials validated(String where) {
        require(username != null && IDENTIFIER.matcher(username).matches(), where + ".username",
                "must be 1-63 letters, digits or '_' starting with a letter or '_'");
        require(password != null && !password.isEmpty(), where + ".password", "is missing or empty");
        require(password.length() <= 200, where + ".password", "is longer than 200 characters");
        require(password.chars().noneMatch(c -> c < 0x20 || c == 0x7f), where + ".password", "contains control characters");
        require(host != null && HOST.matcher(host).matches(), where + ".host", "must be a host name or address");
        require(port > 0 && port < 65536, where + ".port", "must be between 1 and 65535");
        require(dbname != null && IDENTIFIER.matcher(dbname).matches(), where + ".dbname",
                "must be 1-63 letters, digits or '_' starting with a letter or '_'");
        return this;
    }

    public DbCredentials withPassword(String newPassword) {
        return new DbCredentials(username, newPassword, host, port, dbname);
    }

    /** Same login (user and password) and place. */
    public boolean sameAs(DbCredentials other) {
        return other != null && equals(other);
    }

    static boolean isIdentifier(String text) {
        return text != null && IDENTIFIER.matcher(text).matches();
    }

    private static void require(boolean ok, String field, String problem) {
        if (!ok) {
            throw new RotationException(RotationException.Kind.STATE, field + " " + problem);
        }
    }

    @Override
    public String toString() {
        return username + "@" + host + ":" + port + "/" + dbname + " (password hidden)";
    }
}
