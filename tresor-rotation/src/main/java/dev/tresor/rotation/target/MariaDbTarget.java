package dev.tresor.rotation.target;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.config.Grant;
import dev.tresor.rotation.config.TargetConfig;
import dev.tresor.rotation.config.TargetKind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Properties;

/**
 * MariaDB (and MySQL where the SQL is the same). Slot users are {@code 'user'@'userHost'}; they
 * get their privileges only through one role, their default role. Passwords are sent as
 * {@code mysql_native_password} hashes on MariaDB, so the clear text never reaches the server's
 * logs; MySQL (no such syntax since 8.0) gets the password as an escaped literal.
 */
final class MariaDbTarget implements DatabaseTarget {

    private final TargetConfig config;
    private final Duration connectTimeout;

    MariaDbTarget(TargetConfig config, Duration connectTimeout) {
        this.config = config;
        this.connectTimeout = connectTimeout;
    }

    private Connection connect(DbCredentials c, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", c.username());
        p.setProperty("password", c.password());
        p.setProperty("connectTimeout", Long.toString(connectTimeout.toMillis()));
        p.setProperty("socketTimeout", Long.toString(Math.max(30_000, connectTimeout.toMillis() * 6)));
        p.setProperty("sslMode", switch (config.tlsMode()) {
            case DISABLE -> "disable";
            case REQUIRE -> "trust";
            case VERIFY_CA -> "verify-ca";
            case VERIFY_FULL -> "verify-full";
        });
        if (config.tlsCa() != null) {
            p.setProperty("serverSslCert", config.tlsCa().toString());
        }
        p.setProperty("permitMysqlScheme", "true");
        String url = "jdbc:mariadb://" + c.host() + ":" + c.port() + "/" + (database == null ? "" : database);
        return DriverManager.getConnection(url, p);
    }

    @Override
    public Login tryLogin(DbCredentials c) {
        try (Connection ignored = connect(c, null)) {
            return Login.OK;
        } catch (SQLException e) {
            if (e.getErrorCode() == 1045 || "28000".equals(e.getSQLState())) {
                return Login.REFUSED;
            }
            throw new RotationException(RotationException.Kind.UNAVAILABLE, "cannot log in to " + config.kind().wireName()
                    + " at " + c.host() + ":" + c.port() + " as " + c.username() + ": " + Jdbc.describe(e));
        }
    }

    @Override
    public void probe(DbCredentials c, String sql) throws ProbeFailure {
        Jdbc.probe(this::connect, c, sql);
    }

    @Override
    public AdminSession admin(DbCredentials admin, String appDatabase) {
        return new Session(Jdbc.adminConnection(this::connect, admin, null), appDatabase);
    }

    /** {@code *} + upper-case hex of SHA1(SHA1(password)): the mysql_native_password stored form. */
    static String nativeHash(String password) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] stage2 = sha1.digest(stage1);
            java.util.Arrays.fill(stage1, (byte) 0);
            return "*" + HexFormat.of().withUpperCase().formatHex(stage2);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String literal(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private final class Session extends JdbcAdminSession {

        Session(Connection conn, String database) {
            super(conn, database);
        }

        private String account(String user) {
            return "'" + user + "'@'" + config.userHost() + "'";
        }

        private String identifiedBy(String password) {
            return config.kind() == TargetKind.MYSQL
                    ? "IDENTIFIED BY " + literal(password)
                    : "IDENTIFIED BY PASSWORD '" + nativeHash(password) + "'";
        }

        @Override
        public boolean tryLock(String name) {
            // 1 taken, 0 held by another session, NULL on error: only 1 is true.
            return ask("taking the rotation lock", "SELECT GET_LOCK(?, 0) = 1", "tresor-rotation:" + name);
        }

        @Override
        public boolean holdsLock(String name) {
            return ask("checking the rotation lock", "SELECT IS_USED_LOCK(?) <=> CONNECTION_ID()", "tresor-rotation:" + name);
        }

        @Override
        public boolean userExists(String user) {
            return ask("looking up user " + user, "SELECT COUNT(*) > 0 FROM mysql.user WHERE User = ? AND Host = ?",
                    user, config.userHost());
        }

        @Override
        public void createUser(String user, String password) {
            exec("creating user " + account(user), "CREATE USER " + account(user) + " " + identifiedBy(password));
        }

        @Override
        public void setPassword(String user, String password) {
            exec("setting the password of " + account(user), "ALTER USER " + account(user) + " " + identifiedBy(password));
        }

        @Override
        public void setOwnPassword(String user, String password) {
            // The exact account this session authenticated as (user@host), named explicitly: safer than
            // CURRENT_USER() in ALTER USER, which some MariaDB versions resolve inconsistently.
            String account;
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT CURRENT_USER()")) {
                rs.next();
                account = rs.getString(1);
            } catch (SQLException e) {
                throw Jdbc.adminFailure("reading the admin account", e);
            }
            int at = account.lastIndexOf('@');
            String name = account.substring(0, at);
            String host = account.substring(at + 1);
            if (!name.equals(user) || host.contains("'") || host.contains("\\")) {
                throw new RotationException(RotationException.Kind.STATE, "the admin session runs as " + account
                        + ", not as " + user + " from the admin secret; fix the username in the admin secret");
            }
            exec("setting the admin password of " + user, "ALTER USER '" + name + "'@'" + host + "' " + identifiedBy(password));
        }

        @Override
        public boolean hasRole(String user) {
            String sql = config.kind() == TargetKind.MYSQL
                    ? "SELECT COUNT(*) > 0 FROM mysql.role_edges WHERE TO_USER = ? AND TO_HOST = ? AND FROM_USER = ?"
                    : "SELECT COUNT(*) > 0 FROM mysql.roles_mapping WHERE User = ? AND Host = ? AND Role = ?";
            return ask("checking the role of " + user, sql, user, config.userHost(), config.role());
        }

        @Override
        public String privilegeSnapshot(String user) {
            StringBuilder out = new StringBuilder();
            grants(out, "`" + config.role() + "`");
            grants(out, account(user));
            return out.toString();
        }

        private void grants(StringBuilder out, String grantee) {
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SHOW GRANTS FOR " + grantee)) {
                while (rs.next()) {
                    String line = rs.getString(1);
                    // The account's own line carries its password hash: keep only what grants privileges or roles.
                    int identified = line.indexOf(" IDENTIFIED ");
                    out.append(identified > 0 ? line.substring(0, identified) : line).append('\n');
                }
            } catch (SQLException e) {
                out.append("(none: ").append(e.getErrorCode()).append(")\n");
            }
        }

        @Override
        public void ensurePrivileges(String user) {
            String role = "`" + config.role() + "`";
            exec("creating role " + config.role(), "CREATE ROLE IF NOT EXISTS " + role);
            for (Grant g : config.grants()) {
                String on = "`" + database + "`." + (g.on().equals("*") ? "*" : "`" + g.on() + "`");
                exec("granting " + String.join(", ", g.privileges()) + " on " + on + " to role " + config.role(),
                        "GRANT " + String.join(", ", g.privileges()) + " ON " + on + " TO " + role);
            }
            exec("granting role " + config.role() + " to " + account(user), "GRANT " + role + " TO " + account(user));
            exec("making " + config.role() + " the default role of " + account(user), config.kind() == TargetKind.MYSQL
                    ? "SET DEFAULT ROLE " + role + " TO " + account(user)
                    : "SET DEFAULT ROLE " + role + " FOR " + account(user));
        }
    }
}
