package dev.tresor.bench;

import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A production data folder ({@link DataFolder}, as {@code tresor init} makes it) on free loopback
 * ports, on SQLite or on a fresh database of this JVM's embedded PostgreSQL (testkit).
 *
 * @param pg the PostgreSQL database, or null for SQLite
 */
record StoreFolder(String kind, DataFolder folder, DataFolder.AdminCredentials admin, int apiPort, int managementPort,
                   PostgresDatabase pg) {

    static StoreFolder create(Path dir, String kind) throws IOException {
        int api = freePort();
        int mgmt = freePort();
        DataFolder folder = new DataFolder(dir);
        DataFolder.AdminCredentials admin = folder.create(new DataFolder.Options("tresor.local", "127.0.0.1:" + api,
                "127.0.0.1:" + mgmt, List.of(), "admin", Duration.ofDays(7), null), Clock.systemUTC());
        PostgresDatabase pg = null;
        switch (kind) {
            case "sqlite" -> { }
            case "postgresql" -> {
                pg = EmbeddedPostgres.freshDatabase();
                Path yaml = folder.config();
                String text = Files.readString(yaml).replace("  kind: sqlite            # sqlite | postgresql\n  path: tresor.db\n",
                        "  kind: postgresql\n  url: \"" + pg.jdbcUrl() + "\"\n  user: " + pg.user() + "\n  password: \"" + pg.password() + "\"\n");
                if (!text.contains("kind: postgresql\n  url")) {
                    throw new IllegalStateException("could not switch " + yaml + " to PostgreSQL");
                }
                Files.writeString(yaml, text);
                bootstrapAdmin(yaml, admin.identity()); // tresor init registered the admin in its SQLite file only
            }
            default -> throw new IllegalArgumentException("store must be sqlite or postgresql, not " + kind);
        }
        return new StoreFolder(kind, folder, admin, api, mgmt, pg);
    }

    private static void bootstrapAdmin(Path config, String identity) {
        dev.tresor.server.config.ServerSettings settings = dev.tresor.server.config.ConfigLoader.load(config);
        try (dev.tresor.store.Store store = dev.tresor.store.Stores.open(settings.store())) {
            dev.tresor.Tresor.open(store, dev.tresor.crypto.LocalKeyProvider.load(settings.keyFile()),
                    dev.tresor.integrity.IntegrityMonitor.NONE, Clock.systemUTC()).bootstrapAdmin("admin", identity);
        }
    }

    DataDir data() {
        return new DataDir(folder.dir());
    }

    /** The read benches' reader and lister (issued into {@code bench-clients/}) and the folder's admin. */
    record BenchClients(DataDir.Credentials reader, DataDir.Credentials lister, DataDir.Credentials admin) {}

    /** Issues the reader and lister while the CA key is still sealed by {@code kek.json}; call before any migration. */
    BenchClients issueBenchClients() throws IOException {
        DataDir data = data();
        java.nio.file.Path certs = java.nio.file.Files.createDirectories(folder.dir().resolve("bench-clients"));
        return new BenchClients(data.issueClient("reader", data.identityOf("reader"), certs),
                data.issueClient("lister", data.identityOf("lister"), certs),
                new DataDir.Credentials(admin.cert(), admin.key(), admin.ca(), admin.identity()));
    }

    /** The server process plus, on PostgreSQL, the database's processes (children of this JVM). */
    List<Long> serverPids(ServerProcess server) {
        List<Long> pids = new java.util.ArrayList<>(List.of(server.pid()));
        if (pg != null) {
            ProcessHandle.current().descendants().filter(h -> h.info().command().orElse("").contains("postgres"))
                    .forEach(h -> pids.add(h.pid()));
        }
        return pids;
    }

    /** Bytes on disk of the store: the SQLite file with its WAL, or pg_database_size. */
    double storeMiB() throws IOException {
        if (pg == null) {
            long bytes = 0;
            for (String f : List.of("tresor.db", "tresor.db-wal", "tresor.db-shm")) {
                Path p = folder.dir().resolve(f);
                if (Files.exists(p)) {
                    bytes += Files.size(p);
                }
            }
            return bytes / 1048576.0;
        }
        try (Connection c = pg.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT pg_database_size(current_database())")) {
            rs.next();
            return rs.getLong(1) / 1048576.0;
        } catch (SQLException e) {
            throw new IOException("cannot read the PostgreSQL database size", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
