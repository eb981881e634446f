package dev.tresor.rotation.target;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.config.Grant;
import dev.tresor.rotation.config.TargetConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.postgresql.util.PasswordUtil;

/**
 * PostgreSQL. Both slot roles are members of one owning role and switch to it at login
 * ({@code ALTER ROLE slot SET role = owner}), so every object they create belongs to the owning
 * role and never to whichever slot happened to be active. Passwords are sent as SCRAM-SHA-256
 * verifiers computed here: the clear text never reaches the server.
 */
final class PostgresTarget implements DatabaseTarget {

    private final TargetConfig config;
    private final Duration connectTimeout;

    PostgresTarget(TargetConfig config, Duration connectTimeout) {
        this.config = config;
        this.connectTimeout = connectTimeout;
    }

    private Connection connect(DbCredentials c, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", c.username());
        p.setProperty("password", c.password());
        long seconds = Math.max(1, connectTimeout.toSeconds());
        p.setProperty("connectTimeout", Long.toString(seconds));
        p.setProperty("loginTimeout", Long.toString(seconds));
        p.setProperty("socketTimeout", Long.toString(Math.max(30, seconds * 6)));
        p.setProperty("ApplicationName", "tresor-rotation");
        p.setProperty("sslmode", config.tlsMode().wireName());
        if (config.tlsCa() != null) {
            p.setProperty("sslrootcert", config.tlsCa().toString());
        }
        return DriverManager.getConnection("jdbc:postgresql://" + c.host() + ":" + c.port() + "/" + database, p);
    }

    @Override
    public Login tryLogin(DbCredentials c) {
        try (Connection ignored = connect(c, c.dbname())) {
            return Login.OK;
        } catch (SQLException e) {
            String state = e.getSQLState();
            if ("28P01".equals(state) || "28000".equals(state)) {
                return Login.REFUSED;
            }
            if ("42501".equals(state) || "3D000".equals(state)) {
                return Login.OK; // authenticated, but may not use the database: a privilege problem, not a password one
            }
            throw new RotationException(RotationException.Kind.UNAVAILABLE, "cannot log in to postgresql at " + c.host()
                    + ":" + c.port() + " as " + c.username() + ": " + Jdbc.describe(e));
        }
    }

    @Override
    public void probe(DbCredentials c, String sql) throws ProbeFailure {
        Jdbc.probe(this::connect, c, sql);
    }

    @Override
    public AdminSession admin(DbCredentials admin, String appDatabase) {
        return new Session(Jdbc.adminConnection(this::connect, admin, appDatabase), appDatabase);
    }

    private static String ident(String name) {
        return "\"" + name + "\"";
    }

    private final class Session extends JdbcAdminSession {

        Session(Connection conn, String database) {
            super(conn, database);
        }

        private int major() {
            try {
                return conn.getMetaData().getDatabaseMajorVersion();
            } catch (SQLException e) {
                throw Jdbc.adminFailure("reading the server version", e);
            }
        }

        @Override
        public boolean tryLock(String name) {
            return ask("taking the rotation lock", "SELECT pg_try_advisory_lock(?)", lockKey(name));
        }

        @Override
        public boolean holdsLock(String name) {
            // A bigint advisory key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
            long key = lockKey(name);
            return ask("checking the rotation lock", "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    + "AND pid = pg_backend_pid() AND granted AND objsubid = 1 AND classid = ?::bigint::oid AND objid = ?::bigint::oid)",
                    key >>> 32, key & 0xffff_ffffL);
        }

        private static long lockKey(String name) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(("tresor-rotation:" + name).getBytes(StandardCharsets.UTF_8));
                return java.nio.ByteBuffer.wrap(digest).getLong();
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public boolean userExists(String user) {
            return roleExists(user);
        }

        private static String verifier(String password) {
            char[] chars = password.toCharArray();
            try {
                return PasswordUtil.encodeScramSha256(chars);
            } finally {
                java.util.Arrays.fill(chars, '\0');
            }
        }

        @Override
        public void createUser(String user, String password) {
            exec("creating role " + user, "CREATE ROLE " + ident(user) + " LOGIN PASSWORD '" + verifier(password) + "'");
        }

        @Override
        public void setPassword(String user, String password) {
            exec("setting the password of " + user, "ALTER ROLE " + ident(user) + " PASSWORD '" + verifier(password) + "'");
        }

        @Override
        public void setOwnPassword(String user, String password) {
            exec("setting the admin password of " + user, "ALTER ROLE CURRENT_USER PASSWORD '" + verifier(password) + "'");
        }

        @Override
        public boolean hasRole(String user) {
            return ask("checking the role of " + user, "SELECT EXISTS (SELECT 1 FROM pg_auth_members m"
                    + " JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member"
                    + " WHERE r.rolname = ? AND u.rolname = ?)", config.role(), user);
        }

        private boolean roleExists(String role) {
            return ask("looking up role " + role, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?)", role);
        }

        @Override
        public String privilegeSnapshot(String user) {
            String sql = """
                    SELECT coalesce((SELECT string_agg(%s, ',')
                              FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                             WHERE r.rolname = ? AND u.rolname = ?), 'no-membership')
                        || '|' || coalesce((SELECT string_agg(array_to_string(s.setconfig, ','), ';')
                              FROM pg_db_role_setting s JOIN pg_roles u ON u.oid = s.setrole WHERE u.rolname = ?), 'no-config')
                        || '|' || coalesce((SELECT datacl::text FROM pg_database WHERE datname = ?), 'no-acl')
                        || '|' || coalesce((SELECT string_agg(nspname || '=' || coalesce(nspacl::text, ''), ',' ORDER BY nspname)
                              FROM pg_namespace WHERE nspname NOT LIKE 'pg_%%' AND nspname <> 'information_schema'), '')
                        || '|' || coalesce((SELECT string_agg(n.nspname || '.' || c.relname || '=' || coalesce(c.relacl::text, ''), ','
                                                              ORDER BY n.nspname, c.relname)
                              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                               AND n.nspname NOT LIKE 'pg_%%' AND n.nspname <> 'information_schema'), '')
                    """.formatted(major() >= 16 ? "m.inherit_option::text || m.set_option::text" : "'member'");
            try (PreparedStatement s = conn.prepareStatement(sql)) {
                s.setString(1, config.role());
                s.setString(2, user);
                s.setString(3, user);
                s.setString(4, database);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : "";
                }
            } catch (SQLException e) {
                throw Jdbc.adminFailure("reading the privileges of " + user, e);
            }
        }

        @Override
        public void ensurePrivileges(String user) {
            String role = ident(config.role());
            if (!roleExists(config.role())) {
                exec("creating role " + config.role(), "CREATE ROLE " + role + " NOLOGIN");
            }
            for (Grant g : config.grants()) {
                String on = g.on().equals("database") ? "DATABASE " + ident(database)
                        : g.on().startsWith("schema ") ? "SCHEMA " + ident(g.on().substring(7))
                        : g.on().startsWith("all tables in schema ") ? "ALL TABLES IN SCHEMA " + ident(g.on().substring(21))
                        : "ALL SEQUENCES IN SCHEMA " + ident(g.on().substring(24));
                exec("granting " + String.join(", ", g.privileges()) + " on " + g.on() + " to role " + config.role(),
                        "GRANT " + String.join(", ", g.privileges()) + " ON " + on + " TO " + role);
            }
            // PostgreSQL 16 made membership options explicit; before that INHERIT was the default and SET implied.
            exec("granting role " + config.role() + " to " + user, "GRANT " + role + " TO " + ident(user)
                    + (major() >= 16 ? " WITH INHERIT TRUE, SET TRUE" : ""));
            exec("making " + user + " act as " + config.role(), "ALTER ROLE " + ident(user) + " IN DATABASE " + ident(database)
                    + " SET role = " + role);
        }
    }
}
