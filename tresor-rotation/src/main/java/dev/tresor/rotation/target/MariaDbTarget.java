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
import java.sql.PreparedStatement;
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
        try (Connection conn = connect(c, c.dbname()); Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new ProbeFailure("validation query returned no row as " + c.username());
            }
        } catch (SQLException e) {
            throw new ProbeFailure("validation query as " + c.username() + " failed: " + Jdbc.describe(e));
        }
    }

    @Override
    public AdminSession admin(DbCredentials admin, String appDatabase) {
        try {
            return new Session(connect(admin, null), appDatabase);
        } catch (SQLException e) {
            throw Jdbc.adminFailure("admin login as " + admin.username(), e);
        }
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

    private final class Session implements AdminSession {

        private final Connection conn;
        private final String database;

        Session(Connection conn, String database) {
            this.conn = conn;
            this.database = database;
        }

        private String account(String user) {
            return "'" + user + "'@'" + config.userHost() + "'";
        }

        private String identifiedBy(String password) {
            return config.kind() == TargetKind.MYSQL
                    ? "IDENTIFIED BY " + literal(password)
                    : "IDENTIFIED BY PASSWORD '" + nativeHash(password) + "'";
        }

        private void exec(String action, String sql) {
            try (Statement s = conn.createStatement()) {
                s.execute(sql);
            } catch (SQLException e) {
                throw Jdbc.adminFailure(action, e);
            }
        }

        @Override
        public boolean tryLock(String name) {
            try (PreparedStatement s = conn.prepareStatement("SELECT GET_LOCK(?, 0)")) {
                s.setString(1, "tresor-rotation:" + name);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() && rs.getInt(1) == 1;
                }
            } catch (SQLException e) {
                throw Jdbc.adminFailure("taking the rotation lock", e);
            }
        }

        @Override
        public boolean userExists(String user) {
            try (PreparedStatement s = conn.prepareStatement("SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?")) {
                s.setString(1, user);
                s.setString(2, config.userHost());
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() && rs.getInt(1) > 0;
                }
            } catch (SQLException e) {
                throw Jdbc.adminFailure("looking up user " + user, e);
            }
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
                    ? "SELECT COUNT(*) FROM mysql.role_edges WHERE TO_USER = ? AND TO_HOST = ? AND FROM_USER = ?"
                    : "SELECT COUNT(*) FROM mysql.roles_mapping WHERE User = ? AND Host = ? AND Role = ?";
            try (PreparedStatement s = conn.prepareStatement(sql)) {
                s.setString(1, user);
                s.setString(2, config.userHost());
                s.setString(3, config.role());
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() && rs.getInt(1) > 0;
                }
            } catch (SQLException e) {
                throw Jdbc.adminFailure("checking the role of " + user, e);
            }
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

        @Override
        public void close() {
            try {
                conn.close();
            } catch (SQLException e) {
                // Closing frees the lock server-side either way.
            }
        }
    }
}
