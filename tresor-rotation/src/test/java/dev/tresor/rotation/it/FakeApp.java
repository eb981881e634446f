package dev.tresor.rotation.it;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The application's health endpoint, as the rotation's http-check sees it: every request re-reads
 * the consumer file and logs in to the database with what it finds (over TLS), 200 if that works,
 * 500 otherwise. A test can add a {@code policy} (login user, how many health calls that user has
 * had so far) returning a status to force, e.g. to make the new slot fail after the flip.
 */
final class FakeApp implements AutoCloseable {

    private final HttpServer server;
    private final Path file;
    private final TestDatabase db;
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private volatile BiFunction<String, Integer, Integer> policy = (user, n) -> null;

    FakeApp(Path file, TestDatabase db) throws IOException {
        this.file = file;
        this.db = db;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/health", exchange -> {
            int status = status();
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    void policy(BiFunction<String, Integer, Integer> policy) {
        calls.clear();
        this.policy = policy;
    }

    private int status() {
        SqlConf conf;
        try {
            conf = SqlConf.read(file);
        } catch (IOException | IllegalStateException e) {
            return 500;
        }
        int n = calls.computeIfAbsent(conf.login(), k -> new AtomicInteger()).incrementAndGet();
        Integer forced = policy.apply(conf.login(), n);
        if (forced != null) {
            return forced;
        }
        try (Connection c = DriverManager.getConnection(db.appUrl(conf.dbase()), conf.login(), conf.pass());
                Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1").close();
            return 200;
        } catch (Exception e) {
            return 500;
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
