package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real MariaDB (Debian's mariadb-server) started by hand into a folder, as FACTS.md describes:
 * {@code mariadb-install-db}, then {@code mariadbd} on a free loopback port. The rotation it serves
 * is only the data for the console's Rotation page, so no TLS here (tresor-rotation's own tests
 * cover TLS to the database).
 */
final class LocalMariaDb implements AutoCloseable {

    private static final String SUPERUSER = "tester";
    private static final String SUPER_PASSWORD = "tester-only-password";

    private final Process process;
    final int port;

    private LocalMariaDb(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static LocalMariaDb start(Path dir) throws Exception {
        assertThat(Path.of("/usr/sbin/mariadbd")).as("apt-get install mariadb-server (.ci/run does)").isExecutable();
        Process install = new ProcessBuilder("/usr/bin/mariadb-install-db", "--no-defaults", "--datadir=" + dir.resolve("data"),
                "--auth-root-authentication-method=socket", "--skip-test-db")
                .redirectErrorStream(true).redirectOutput(dir.resolve("install.log").toFile()).start();
        assertThat(install.waitFor(120, TimeUnit.SECONDS) && install.exitValue() == 0)
                .as("mariadb-install-db: " + Files.readString(dir.resolve("install.log"))).isTrue();
        Files.writeString(dir.resolve("init.sql"), """
                DELETE FROM mysql.global_priv WHERE User = '';
                FLUSH PRIVILEGES;
                CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';
                GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;
                """.formatted(SUPERUSER, SUPER_PASSWORD, SUPERUSER));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process process = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--user=root",
                "--datadir=" + dir.resolve("data"), "--port=" + port, "--bind-address=127.0.0.1",
                "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mysqld.pid"),
                "--skip-name-resolve", "--skip-ssl", "--init-file=" + dir.resolve("init.sql"),
                "--log-error=" + dir.resolve("error.log"), "--innodb-buffer-pool-size=32M", "--performance-schema=OFF")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        LocalMariaDb db = new LocalMariaDb(process, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection connection = db.superuser()) {
                assertThat(connection.isValid(5)).as("mariadbd answers").isTrue();
                return db;
            } catch (SQLException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    db.close();
                    throw new IllegalStateException("mariadbd did not start: " + e.getMessage());
                }
                Thread.sleep(100);
            }
        }
    }

    Connection superuser() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("password", SUPER_PASSWORD);
        p.setProperty("connectTimeout", "5000");
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/", p);
    }

    /** A database and the rotation's admin user, with what an operator gives it (docs/rotation.md). */
    void prepare(String database, String admin, String password) throws SQLException {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            for (String sql : List.of("CREATE DATABASE `" + database + "`",
                    "CREATE USER '" + admin + "'@'%' IDENTIFIED BY '" + password + "'",
                    "GRANT CREATE USER, SELECT, INSERT, UPDATE, DELETE, CREATE, RELOAD ON *.* TO '" + admin + "'@'%' WITH GRANT OPTION",
                    "GRANT ALL PRIVILEGES ON `" + database + "`.* TO '" + admin + "'@'%' WITH GRANT OPTION",
                    "GRANT SELECT ON mysql.* TO '" + admin + "'@'%'")) {
                s.execute(sql);
            }
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
