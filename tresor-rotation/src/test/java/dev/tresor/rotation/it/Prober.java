package dev.tresor.rotation.it;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Behaves like the application: for every connection it re-reads the consumer file (as PHP does for
 * each request), opens a new TLS connection with those credentials, runs a query on the application
 * table and closes. Paced at {@value #RATE} connections per second. Any failure is recorded with
 * the user and error (never the password).
 */
final class Prober implements AutoCloseable {

    static final int RATE = 60;
    /** Connections are opened by several threads so that one slow TLS handshake does not hold the others up. */
    static final int THREADS = 4;

    private final Path file;
    private final TestDatabase db;
    private final List<Thread> threads;
    private final AtomicLong connections = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;
    private volatile long startedNanos;
    private volatile long stoppedNanos;

    Prober(Path file, TestDatabase db) {
        this.file = file;
        this.db = db;
        this.threads = java.util.stream.IntStream.range(0, THREADS)
                .mapToObj(i -> Thread.ofPlatform().name("prober-" + i).daemon().unstarted(this::loop)).toList();
    }

    Prober start() {
        startedNanos = System.nanoTime();
        threads.forEach(Thread::start);
        return this;
    }

    private void loop() {
        long interval = 1_000_000_000L * THREADS / RATE;
        long next = System.nanoTime();
        while (running) {
            probeOnce();
            next += interval;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else {
                next = System.nanoTime();
            }
        }
    }

    private void probeOnce() {
        SqlConf conf = null;
        try {
            conf = SqlConf.read(file);
            try (Connection c = DriverManager.getConnection(db.appUrl(conf.dbase()), conf.login(), conf.pass());
                    Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM gate")) {
                rs.next();
            }
            connections.incrementAndGet();
        } catch (Exception e) {
            connections.incrementAndGet();
            failures.add((conf == null ? "?" : conf.login()) + ": " + e.getMessage());
        }
    }

    long connections() {
        return connections.get();
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    /** Connections per second over the prober's life (for the report, not asserted). */
    double rate() {
        long end = stoppedNanos == 0 ? System.nanoTime() : stoppedNanos;
        return connections.get() / Math.max(1e-9, (end - startedNanos) / 1e9);
    }

    @Override
    public void close() {
        running = false;
        try {
            for (Thread t : threads) {
                t.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stoppedNanos = System.nanoTime();
    }
}
