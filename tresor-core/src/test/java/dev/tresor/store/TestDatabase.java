package dev.tresor.store;

import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One empty database of either kind, for tests that must hold for both stores. Besides opening
 * {@link Store}s on it, it offers plain JDBC on the same database: the view of an attacker who can
 * write to the database but holds no KEK, and of a test that checks what really got stored.
 */
public abstract class TestDatabase implements AutoCloseable {

    /** Which kind of store a suite runs against; each suite has one nested class per kind. */
    public enum Kind {
        SQLITE, POSTGRESQL;

        public TestDatabase create() {
            return this == SQLITE ? sqlite() : postgresql();
        }
    }

    public static TestDatabase sqlite() {
        return new Sqlite();
    }

    /**
     * An empty PostgreSQL database. Creating and migrating one costs a few hundred milliseconds, so
     * closed ones are emptied (every Tresor table truncated; the migrated schema stays) and handed
     * to the next test instead: each test still starts with no rows.
     */
    public static TestDatabase postgresql() {
        PostgresDatabase recycled = Postgres.FREE.poll();
        return new Postgres(recycled != null ? recycled : EmbeddedPostgres.freshDatabase());
    }

    public abstract StoreConfig config();

    public abstract Kind kind();

    /** A plain JDBC connection (auto-commit) to the same database, outside any {@link Store}. */
    public abstract Connection connect() throws SQLException;

    /** Opens a new {@link Store} (own pool) on this database; the caller closes it. */
    public Store open() {
        return Stores.open(config());
    }

    @Override
    public void close() {}

    // ------------------------------------------------------------------ raw SQL helpers

    /** Every row of {@code table} matching {@code where} (SQL, '?' placeholders), columns in table order. */
    public List<Map<String, Object>> rows(String table, String where, Object... args) {
        String sql = "SELECT * FROM " + table + (where == null ? "" : " WHERE " + where);
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<Map<String, Object>> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        row.put(md.getColumnName(i).toLowerCase(java.util.Locale.ROOT), rs.getObject(i));
                    }
                    out.add(row);
                }
                return out;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Exactly one row of {@code table} matching {@code where}. */
    public Map<String, Object> row(String table, String where, Object... args) {
        List<Map<String, Object>> rows = rows(table, where, args);
        if (rows.size() != 1) {
            throw new IllegalStateException("expected one row of " + table + " where " + where + ", found " + rows.size());
        }
        return rows.getFirst();
    }

    /** Inserts a row captured with {@link #row}/{@link #rows} (possibly edited). */
    public void insert(String table, Map<String, Object> row) {
        String columns = String.join(", ", row.keySet());
        String marks = String.join(", ", row.keySet().stream().map(k -> "?").toList());
        sql("INSERT INTO " + table + " (" + columns + ") VALUES (" + marks + ")", row.values().toArray());
    }

    /** Runs one statement with auto-commit; returns the update count. */
    public int sql(String sql, Object... args) {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Runs several statements in one transaction (an attacker swapping rows atomically). */
    public void transaction(String... statements) {
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                for (String s : statements) {
                    st.execute(s);
                }
            }
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(String.join("; ", statements), e);
        }
    }

    /** Names of Tresor's tables (not the migration tool's). */
    public List<String> tables() {
        try (Connection c = connect()) {
            DatabaseMetaData md = c.getMetaData();
            List<String> out = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, kind() == Kind.POSTGRESQL ? "public" : null, "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    String name = rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT);
                    if (!name.startsWith("flyway") && !name.startsWith("sqlite_")) {
                        out.add(name);
                    }
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private void bind(PreparedStatement ps, Object[] args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                ps.setNull(i + 1, java.sql.Types.NULL);
            } else if (a instanceof Boolean b && kind() == Kind.SQLITE) {
                ps.setInt(i + 1, b ? 1 : 0);
            } else {
                ps.setObject(i + 1, a);
            }
        }
    }

    /** A boolean as the database stores it, for raw SQL: 1/0 in SQLite, true/false in PostgreSQL. */
    public Object bool(boolean value) {
        return kind() == Kind.SQLITE ? (Object) (value ? 1 : 0) : (Object) value;
    }

    // ------------------------------------------------------------------ kinds

    /**
     * For a test that changes the schema itself (undoes a migration to test an upgrade): the
     * database is not offered to the next test, whatever state the test leaves it in.
     */
    public void discardAfterUse() {
        discard = true;
    }

    /** Set by {@link #discardAfterUse}. */
    protected boolean discard;

    private static final class Sqlite extends TestDatabase {
        private final Path dir;
        private final Path file;

        Sqlite() {
            try {
                dir = Files.createTempDirectory("tresor-store-test-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            file = dir.resolve("tresor.db");
        }

        @Override
        public StoreConfig config() {
            return StoreConfig.sqlite(file);
        }

        @Override
        public Kind kind() {
            return Kind.SQLITE;
        }

        @Override
        public Connection connect() throws SQLException {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA busy_timeout = 30000");
            }
            return c;
        }

        @Override
        public void close() {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a leftover temp folder is harmless
            }
        }

        @Override
        public String toString() {
            return "SQLite " + file;
        }
    }

    private static final class Postgres extends TestDatabase {
        static final java.util.concurrent.ConcurrentLinkedQueue<PostgresDatabase> FREE =
                new java.util.concurrent.ConcurrentLinkedQueue<>();

        private final PostgresDatabase db;
        private boolean closed;

        Postgres(PostgresDatabase db) {
            this.db = db;
        }

        /** Empties every table and offers the database to the next test; a database that cannot be emptied is dropped from reuse. */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            List<String> tables = tables();
            try (Connection c = connect(); Statement st = c.createStatement()) {
                st.execute("SET lock_timeout = '5s'");
                if (!tables.isEmpty()) {
                    st.execute("TRUNCATE " + String.join(", ", tables));
                }
                if (!discard) {
                    FREE.add(db);
                }
            } catch (SQLException e) {
                // Still in use (a store left open?): give the next test a fresh database instead.
            }
        }

        @Override
        public StoreConfig config() {
            return StoreConfig.postgresql(db.jdbcUrl(), db.user(), db.password());
        }

        @Override
        public Kind kind() {
            return Kind.POSTGRESQL;
        }

        @Override
        public Connection connect() throws SQLException {
            return db.connect();
        }

        @Override
        public String toString() {
            return "PostgreSQL " + db.name();
        }
    }
}
