package dev.tresor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** Runs against a real PostgreSQL: a failure to start must fail these tests, never skip them. */
class EmbeddedPostgresTest {

    @Test
    void freshDatabasesAreDistinctAndUsable() throws Exception {
        PostgresDatabase first = EmbeddedPostgres.freshDatabase();
        PostgresDatabase second = EmbeddedPostgres.freshDatabase();

        assertThat(first.name()).isNotEqualTo(second.name());
        assertThat(first.jdbcUrl()).isNotEqualTo(second.jdbcUrl())
                .isEqualTo("jdbc:postgresql://localhost:" + EmbeddedPostgres.port() + "/" + first.name());
        assertThat(first.user()).isNotEqualTo(second.user());

        try (Connection connection = first.connect(); Statement sql = connection.createStatement()) {
            assertThat(connection.getMetaData().getDatabaseProductVersion()).startsWith("18.");
            try (ResultSet rows = sql.executeQuery("SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()")) {
                rows.next();
                assertThat(rows.getString(1)).isEqualTo("UTF8");
                assertThat(rows.getString(2)).isEqualTo("C");
            }
            sql.execute("CREATE TABLE secret (path TEXT PRIMARY KEY, value BYTEA NOT NULL)");
            sql.execute("INSERT INTO secret VALUES ('db/password', '\\x01020304')");
            try (ResultSet rows = sql.executeQuery("SELECT path, value FROM secret")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString("path")).isEqualTo("db/password");
                assertThat(rows.getBytes("value")).containsExactly(1, 2, 3, 4);
                assertThat(rows.next()).isFalse();
            }
            try (ResultSet rows = sql.executeQuery("SELECT current_database(), current_user")) {
                rows.next();
                assertThat(rows.getString(1)).isEqualTo(first.name());
                assertThat(rows.getString(2)).isEqualTo(first.user());
            }
        }

        // The second database is empty: the first one's table is not there.
        try (Connection connection = second.connect(); Statement sql = connection.createStatement()) {
            try (ResultSet rows = sql.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename = 'secret'")) {
                rows.next();
                assertThat(rows.getInt(1)).isZero();
            }
            sql.execute("CREATE TABLE secret (path TEXT PRIMARY KEY)");
            sql.execute("INSERT INTO secret VALUES ('other')");
        }
    }

    @Test
    void credentialsAreCheckedAndDatabasesAreKeptApart() throws Exception {
        PostgresDatabase first = EmbeddedPostgres.freshDatabase();
        PostgresDatabase second = EmbeddedPostgres.freshDatabase();

        assertThatThrownBy(() -> DriverManager.getConnection(first.jdbcUrl(), first.user(), "wrong").close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("password authentication failed");
        assertThatThrownBy(() -> DriverManager.getConnection(second.jdbcUrl(), first.user(), first.password()).close())
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("permission denied");
        try (Connection connection = first.connect(); Statement sql = connection.createStatement();
                ResultSet rows = sql.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
            rows.next();
            assertThat(rows.getBoolean(1)).as("superuser").isFalse();
        }
        assertThat(first.toString()).doesNotContain(first.password());
    }

    @Test
    void parallelCallersGetDistinctWorkingDatabases() throws Exception {
        Callable<String> createAndUse = () -> {
            PostgresDatabase database = EmbeddedPostgres.freshDatabase();
            try (Connection connection = database.connect(); Statement sql = connection.createStatement()) {
                sql.execute("CREATE TABLE t (id INT)");
                sql.execute("INSERT INTO t VALUES (1)");
            }
            return database.name();
        };
        List<String> names;
        try (ExecutorService threads = Executors.newFixedThreadPool(6)) {
            List<Future<String>> futures = threads.invokeAll(IntStream.range(0, 12).mapToObj(i -> createAndUse).toList());
            names = futures.stream().map(f -> {
                try {
                    return f.get();
                } catch (Exception e) {
                    throw new AssertionError("a parallel freshDatabase() failed", e);
                }
            }).toList();
        }
        assertThat(names).hasSize(12).doesNotHaveDuplicates();
    }
}
