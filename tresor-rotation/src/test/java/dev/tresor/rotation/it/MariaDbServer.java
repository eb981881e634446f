package dev.tresor.rotation.it;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real MariaDB server (Debian's mariadb-server, started by hand as FACTS.md describes):
 * {@code mariadb-install-db} into a temp folder, then {@code mariadbd} on a free loopback port with
 * a TLS certificate from a test CA, so TLS to the database is real (the test superuser is
 * {@code REQUIRE SSL}). Killed by its Process handle in {@link #close()}.
 */
final class MariaDbServer implements TestDatabase {

    static final String SUPERUSER = "tester";
    private static final String SUPER_PASSWORD = "tester-only-password";

    private final Path dir;
    private final Process process;
    private final int port;
    private final Path ca;

    private MariaDbServer(Path dir, Process process, int port, Path ca) {
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.ca = ca;
    }

    static MariaDbServer start() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/sbin/mariadbd")) || !Files.isExecutable(Path.of("/usr/bin/mariadb-install-db"))) {
            throw new IllegalStateException("MariaDB is not installed: apt-get install mariadb-server (.ci/run does this)");
        }
        Path dir = Files.createTempDirectory("tresor-mariadb-");
        TestPki pki = TestPki.create("MariaDB Test CA");
        Path ca = pki.writeCaPem(dir.resolve("ca.crt"));
        IssuedCert.PemFiles cert = pki.server("localhost", "127.0.0.1").writePem(dir, "server");
        run(dir, List.of("/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=" + dir.resolve("data"),
                "--auth-root-authentication-method=socket", "--skip-test-db"));
        Files.writeString(dir.resolve("init.sql"), """
                DELETE FROM mysql.global_priv WHERE User = '';
                FLUSH PRIVILEGES;
                CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL;
                GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;
                """.formatted(SUPERUSER, SUPER_PASSWORD, SUPERUSER));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process process = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--user=root",
                "--datadir=" + dir.resolve("data"), "--port=" + port, "--bind-address=127.0.0.1",
                "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mysqld.pid"),
                "--skip-name-resolve", "--ssl-cert=" + cert.certificate(), "--ssl-key=" + cert.privateKey(),
                "--init-file=" + dir.resolve("init.sql"), "--log-error=" + dir.resolve("error.log"),
                "--innodb-buffer-pool-size=32M", "--max-connections=400", "--performance-schema=OFF")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        MariaDbServer server = new MariaDbServer(dir, process, port, ca);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (Connection ignored = server.superuser(null)) {
                    return server;
                } catch (SQLException e) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException("mariadbd did not start: " + e.getMessage() + "\n"
                                + tail(dir.resolve("error.log")));
                    }
                    Thread.sleep(100);
                }
            }
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    private static void run(Path dir, List<String> command) throws IOException, InterruptedException {
        Path log = dir.resolve("install.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(command.getFirst() + " failed:\n" + tail(log));
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public String kind() {
        return "mariadb";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public Path caFile() {
        return ca;
    }

    @Override
    public String tlsMode() {
        return "verify-full";
    }

    private Properties tls(String user, String password) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("sslMode", "verify-full");
        p.setProperty("serverSslCert", ca.toString());
        p.setProperty("connectTimeout", "5000");
        return p;
    }

    @Override
    public boolean cutRotationLockHolder(String rotation, String adminUser) throws SQLException {
        String lock = "tresor-rotation:" + rotation;
        try (Connection c = superuser(null); java.sql.PreparedStatement holder = c.prepareStatement("SELECT IS_USED_LOCK(?)")) {
            holder.setString(1, lock);
            long id;
            try (java.sql.ResultSet rs = holder.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
                if (rs.wasNull()) {
                    return false;
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("KILL CONNECTION " + id);
            }
            dev.tresor.testkit.Await.until("the lock " + lock + " released after its session was killed",
                    java.time.Duration.ofSeconds(30), () -> {
                        try (java.sql.ResultSet rs = holder.executeQuery()) {
                            rs.next();
                            rs.getLong(1);
                            return rs.wasNull();
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            return true;
        }
    }

    @Override
    public Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + (database == null ? "" : database),
                tls(SUPERUSER, SUPER_PASSWORD));
    }

    @Override
    public void prepare(String database, String adminUser, String adminPassword, String... slotUsers) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE `" + database + "`");
            s.execute("CREATE TABLE `" + database + "`.gate (u VARCHAR(64) PRIMARY KEY)");
            for (String u : slotUsers) {
                s.execute("INSERT INTO `" + database + "`.gate VALUES ('" + u + "')");
            }
            s.execute("CREATE USER '" + adminUser + "'@'%' IDENTIFIED BY '" + adminPassword + "'");
            // What an operator gives the rotation's admin: manage users and roles, grant table privileges.
            s.execute("GRANT CREATE USER, SELECT, INSERT, UPDATE, DELETE, CREATE, RELOAD ON *.* TO '" + adminUser + "'@'%' WITH GRANT OPTION");
            s.execute("GRANT ALL PRIVILEGES ON `" + database + "`.* TO '" + adminUser + "'@'%' WITH GRANT OPTION");
            s.execute("GRANT SELECT ON mysql.* TO '" + adminUser + "'@'%'");
        }
    }

    @Override
    public boolean canLogin(String user, String password, String database) {
        try (Connection ignored = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/", tls(user, password))) {
            return true;
        } catch (SQLException e) {
            if (e.getErrorCode() == 1045) {
                return false;
            }
            throw new IllegalStateException("login check failed for another reason: " + e.getMessage(), e);
        }
    }

    @Override
    public String appUrl(String database) {
        return "jdbc:mariadb://127.0.0.1:" + port + "/" + database + "?sslMode=verify-full&serverSslCert=" + ca
                + "&connectTimeout=5000";
    }

    @Override
    public String usersFingerprint(String database) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT User, Host, Priv FROM mysql.global_priv ORDER BY User, Host")) {
                while (rs.next()) {
                    out.append(rs.getString(1)).append('@').append(rs.getString(2)).append(' ').append(rs.getString(3)).append('\n');
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT * FROM mysql.roles_mapping ORDER BY User, Host, Role")) {
                while (rs.next()) {
                    out.append("role ").append(rs.getString(1)).append(rs.getString(2)).append(rs.getString(3)).append('\n');
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT * FROM mysql.db ORDER BY User, Db")) {
                while (rs.next()) {
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        out.append(rs.getString(i)).append(',');
                    }
                    out.append('\n');
                }
            }
        }
        return out.toString();
    }

    @Override
    public void setPassword(String user, String password) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("ALTER USER '" + user + "'@'%' IDENTIFIED BY '" + password + "'");
        }
    }

    @Override
    public void dropUser(String user) throws SQLException {
        try (Connection c = superuser(null); Statement s = c.createStatement()) {
            s.execute("DROP USER '" + user + "'@'%'");
        }
    }

    @Override
    public void dropPrivileges(String user, String role, String database, String admin, String adminPassword) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/", tls(admin, adminPassword));
                Statement s = c.createStatement()) {
            s.execute("REVOKE `" + role + "` FROM '" + user + "'@'%'");
            s.execute("REVOKE SELECT ON `" + database + "`.* FROM `" + role + "`");
        }
    }

    @Override
    public String gateProbe() {
        return "SELECT 1 FROM gate WHERE u = SUBSTRING_INDEX(USER(), '@', 1)";
    }

    @Override
    public String grantsYaml() {
        return """
                  grants:
                    - privileges: [SELECT, INSERT, UPDATE, DELETE]
                      on: "*"
                """;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteTree(dir);
    }

    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }
}
