package dev.tresor.rotation.config;

/**
 * TLS for database connections, with libpq's meanings. {@code require} (the default) encrypts;
 * {@code verify-ca} also checks the server's certificate against {@code target.tls.ca};
 * {@code verify-full} also checks the host name. {@code disable} sends credentials in clear and is
 * only ever used when written explicitly, and then announced on every run.
 */
public enum TlsMode {
    DISABLE("disable"),
    REQUIRE("require"),
    VERIFY_CA("verify-ca"),
    VERIFY_FULL("verify-full");

    private final String wireName;

    TlsMode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
