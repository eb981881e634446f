package dev.tresor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The smallest valid {@code tresor.yaml} of the server tests (ephemeral API and management ports,
 * TLS files beside it, a SQLite store, a local KEK, a file audit sink), with the few parts a test
 * changes: the store, the key provider block and the audit write timeout. Tests that check one field of the config
 * start from {@link #yaml()} and edit it; tests that start a server write it with {@link #writeTo}.
 */
public final class TestServerConfig {

    private String store = "  kind: sqlite\n  path: tresor.db\n";
    private String keyProvider = "  kind: local\n  path: kek.json\n";
    private String auditWriteTimeout = "2s";
    private String extra = "";

    public static TestServerConfig sqlite() {
        return new TestServerConfig();
    }

    /** The lines under {@code store:}, each indented by two spaces and ending in a newline. */
    public TestServerConfig store(String lines) {
        this.store = lines(lines);
        return this;
    }

    /** A PostgreSQL store with the database's URL, user and password. */
    public TestServerConfig postgresql(PostgresDatabase pg) {
        return store("  kind: postgresql\n  url: \"" + pg.jdbcUrl() + "\"\n  user: " + pg.user()
                + "\n  password: \"" + pg.password() + "\"\n");
    }

    public TestServerConfig auditWriteTimeout(String duration) {
        this.auditWriteTimeout = duration;
        return this;
    }

    /** Top-level sections added at the end (e.g. a {@code ca:} block), ending in a newline. */
    public TestServerConfig extra(String sections) {
        this.extra = lines(sections);
        return this;
    }

    /** The lines under {@code keyProvider:}, each indented by two spaces and ending in a newline. */
    public TestServerConfig keyProvider(String lines) {
        this.keyProvider = lines(lines);
        return this;
    }

    private static String lines(String lines) {
        if (!lines.endsWith("\n")) {
            throw new IllegalArgumentException("config lines must end with a newline: " + lines);
        }
        return lines;
    }

    public String yaml() {
        return """
                trustDomain: tresor.test
                listen:
                  api: "127.0.0.1:0"
                  management: "127.0.0.1:0"
                tls:
                  cert: server.crt
                  key: server.key
                  clientCa: ca.crt
                store:
                %skeyProvider:
                %saudit:
                  writeTimeout: %s
                  fsyncInterval: 20ms
                  sinks:
                    - kind: file
                      path: audit.log
                %s""".formatted(store, keyProvider, auditWriteTimeout, extra);
    }

    /** Writes {@code tresor.yaml} into {@code dir} and returns its path. */
    public Path writeTo(Path dir) {
        try {
            return Files.writeString(dir.resolve("tresor.yaml"), yaml(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The TLS files the config names ({@code ca.crt}, {@code server.crt}, {@code server.key}) from a new test PKI. */
    public static TestPki writeTls(Path dir, String caName) {
        TestPki pki = TestPki.create(caName);
        pki.writeCaPem(dir.resolve("ca.crt"));
        pki.server("localhost", "127.0.0.1").writePem(dir, "server");
        return pki;
    }
}
