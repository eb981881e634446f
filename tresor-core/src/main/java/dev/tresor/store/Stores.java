package dev.tresor.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/** Opens a {@link Store} and brings its schema up to date with the versioned migrations. */
public final class Stores {

    private Stores() {}

    public static Store open(StoreConfig config) {
        return switch (config.kind()) {
            case "sqlite" -> openSqlite(config);
            case "postgresql" -> openPostgres(config);
            default -> throw new IllegalArgumentException("store.kind must be 'sqlite' or 'postgresql', not '" + config.kind() + "'");
        };
    }

    private static Store openSqlite(StoreConfig config) {
        Path file = config.sqlitePath().toAbsolutePath();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the folder of " + file, e);
        }
        SQLiteConfig sqlite = new SQLiteConfig();
        sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL: a committed (acknowledged) write survives power loss, not only a process crash.
        sqlite.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        sqlite.setBusyTimeout(30_000);
        sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        sqlite.enforceForeignKeys(false);
        SQLiteDataSource raw = new SQLiteDataSource(sqlite);
        raw.setUrl("jdbc:sqlite:" + file);
        HikariConfig hikari = new HikariConfig();
        hikari.setDataSource(raw);
        hikari.setPoolName("tresor-sqlite");
        hikari.setMaximumPoolSize(Math.max(2, config.poolSize()));
        hikari.setConnectionTimeout(10_000);
        HikariDataSource pool = new HikariDataSource(hikari);
        return migrateAndWrap(pool, Dialect.SQLITE, raw, file, null, config.changeRecheck());
    }

    private static Store openPostgres(StoreConfig config) {
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(config.jdbcUrl());
        hikari.setUsername(config.user());
        hikari.setPassword(config.password());
        hikari.setPoolName("tresor-postgresql");
        hikari.setMaximumPoolSize(Math.max(2, config.poolSize()));
        hikari.setConnectionTimeout(10_000);
        hikari.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        JdbcStore.ConnectionOpener unpooled = () -> {
            java.util.Properties login = new java.util.Properties();
            if (config.user() != null) {
                login.setProperty("user", config.user());
            }
            if (config.password() != null) {
                login.setProperty("password", config.password());
            }
            // Named, so an operator sees each node's listening connection in pg_stat_activity.
            login.setProperty("ApplicationName", "tresor-change-listener");
            return java.sql.DriverManager.getConnection(config.jdbcUrl(), login);
        };
        return migrateAndWrap(new HikariDataSource(hikari), Dialect.POSTGRESQL, null, null, unpooled, config.changeRecheck());
    }

    private static Store migrateAndWrap(HikariDataSource pool, Dialect dialect, javax.sql.DataSource sqliteSource,
                                        Path sqliteFile, JdbcStore.ConnectionOpener unpooled,
                                        java.time.Duration changeRecheck) {
        try {
            var result = Flyway.configure()
                    .dataSource(pool)
                    .locations(dialect.migrationLocation())
                    .failOnMissingLocations(true)
                    .load()
                    .migrate();
            java.util.Set<String> applied = new java.util.HashSet<>();
            result.migrations.forEach(m -> applied.add(m.version));
            return new JdbcStore(pool, dialect, sqliteSource, sqliteFile, applied, unpooled, changeRecheck);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }
}
