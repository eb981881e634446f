package dev.tresor.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The change token must move on every commit, from any connection or process, and stay put
 * otherwise, whether it comes from the wal-index header (the fast path) or from the statement.
 */
class SqliteChangeWatchTest {

    @TempDir
    Path dir;

    private SQLiteDataSource source(Path db, SQLiteConfig.JournalMode mode) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(mode);
        SQLiteDataSource source = new SQLiteDataSource(config);
        source.setUrl("jdbc:sqlite:" + db);
        return source;
    }

    /** A database with table {@code t}, a connection that writes it, and a watch on it. */
    private interface WithWatch {
        void run(Path db, Connection writer, SqliteChangeWatch watch) throws Exception;
    }

    private void withWatch(SQLiteConfig.JournalMode mode, WithWatch body) throws Exception {
        Path db = dir.resolve("t.db");
        SQLiteDataSource source = source(db, mode);
        try (Connection writer = source.getConnection(); SqliteChangeWatch watch = new SqliteChangeWatch(source, db)) {
            execute(writer, "CREATE TABLE t (n INTEGER)");
            body.run(db, writer, watch);
        }
    }

    /** Each of {@code commits} commits moves the token; no token moves without one. */
    private static void eachCommitMovesTheToken(Connection writer, SqliteChangeWatch watch, int commits) throws SQLException {
        Object previous = watch.token();
        for (int i = 0; i < commits; i++) {
            assertThat(watch.token()).as("no commit in between").isEqualTo(previous);
            execute(writer, "INSERT INTO t VALUES (" + i + ")");
            Object next = watch.token();
            assertThat(next).as("commit %d", i).isNotEqualTo(previous);
            previous = next;
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Test
    void theTokenMovesOnEveryCommitAndOnlyThenThroughTheHeader() throws Exception {
        withWatch(SQLiteConfig.JournalMode.WAL, (db, writer, watch) -> {
            eachCommitMovesTheToken(writer, watch, 500);
            assertThat(watch.fallbacks()).as("every token came from the wal-index header").isZero();
            assertThat(Files.size(db.resolveSibling("t.db-shm"))).isGreaterThanOrEqualTo(2L * SqliteChangeWatch.HEADER_BYTES);
        });
    }

    @Test
    void checkpointsAndWalResetsNeverHideALaterCommit() throws Exception {
        withWatch(SQLiteConfig.JournalMode.WAL, (db, writer, watch) -> {
            for (int i = 0; i < 50; i++) {
                execute(writer, "INSERT INTO t VALUES (" + i + ")");
                Object before = watch.token();
                execute(writer, "PRAGMA wal_checkpoint(" + (i % 2 == 0 ? "TRUNCATE" : "RESTART") + ")");
                Object afterCheckpoint = watch.token();
                // The WAL now starts over; its first commit may end at the frame count an earlier one had.
                execute(writer, "INSERT INTO t VALUES (" + i + ")");
                assertThat(watch.token()).as("commit after checkpoint %d", i).isNotEqualTo(afterCheckpoint).isNotEqualTo(before);
            }
        });
    }

    @Test
    void commitsOfAnotherProcessAreSeen() throws Exception {
        withWatch(SQLiteConfig.JournalMode.WAL, (db, writer, watch) -> {
            Object before = watch.token();
            assertThat(watch.token()).isEqualTo(before);
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    OtherProcessCommit.class.getName(), db.toString()));
            Process other = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertThat(other.waitFor(60, TimeUnit.SECONDS)).as("the other process finished").isTrue();
            assertThat(other.exitValue()).as(new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
            assertThat(watch.token()).isNotEqualTo(before);
            assertThat(watch.fallbacks()).isZero();
        });
    }

    /** Commits one row to the database named by its argument, from a JVM of its own. */
    public static final class OtherProcessCommit {
        public static void main(String[] args) throws SQLException {
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + args[0])) {
                execute(c, "INSERT INTO t VALUES (42)");
            }
        }
    }

    @Test
    void aTornHeaderFallsBackToTheStatementAndMissesNothing() throws Exception {
        withWatch(SQLiteConfig.JournalMode.WAL, (db, writer, watch) -> {
            Object fromHeader = watch.token();
            // Make the two copies disagree, as a reader racing a commit would see them. (Closing
            // this second handle drops this process's fcntl locks on the file; only this test's
            // own connections hold any, and nothing here depends on them.)
            try (FileChannel shm = FileChannel.open(db.resolveSibling("t.db-shm"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.allocate(1);
                shm.read(b, SqliteChangeWatch.HEADER_BYTES + 8);
                b.flip();
                byte changed = (byte) (b.get(0) + 1);
                shm.write(ByteBuffer.wrap(new byte[] {changed}), SqliteChangeWatch.HEADER_BYTES + 8);
            }
            Object fromStatement = watch.token();
            assertThat(watch.fallbacks()).isEqualTo(1);
            assertThat(fromStatement).as("switching source starts a generation").isNotEqualTo(fromHeader);
            // SQLite rebuilds a header whose copies disagree when it next reads it; from then on
            // the header serves again (one more new generation for the switch back).
            Object settled = watch.token();
            assertThat(watch.token()).as("no commit: stable again").isEqualTo(settled);
            execute(writer, "INSERT INTO t VALUES (1)");
            Object afterCommit = watch.token();
            assertThat(afterCommit).isNotEqualTo(settled);
            assertThat(watch.token()).isEqualTo(afterCommit);
        });
    }

    @Test
    void withoutAWalTheStatementServes() throws Exception {
        withWatch(SQLiteConfig.JournalMode.DELETE, (db, writer, watch) -> {
            eachCommitMovesTheToken(writer, watch, 20);
            assertThat(Files.exists(db.resolveSibling("t.db-shm"))).isFalse();
            assertThat(watch.fallbacks()).isPositive();
        });
    }

    @Test
    void aTokenAfterCloseMatchesNoEarlierOne() throws IOException {
        Path db = dir.resolve("t.db");
        SQLiteDataSource source = source(db, SQLiteConfig.JournalMode.WAL);
        SqliteChangeWatch watch = new SqliteChangeWatch(source, db);
        Object before = watch.token();
        watch.close();
        assertThat(watch.token()).isNotEqualTo(before);
        watch.close();
    }
}
