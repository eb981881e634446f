package dev.tresor.bench;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;

/**
 * Loads secrets into a (stopped) server's store in-process, through {@link Tresor}: the same
 * authorisation, envelope encryption, row seals, ledger and transactions as the API, without
 * HTTP and TLS (which would only make a million writes slower, not different). Each put is its
 * own durable transaction, as through the API.
 */
final class BulkLoad implements AutoCloseable {

    /** Groups of the scale benchmark: the reader's 100 secrets, the lister's 10, the bulk. */
    static final String READERS = "readers";
    static final String TEN = "ten";
    static final String BULK = "bulk";

    private final Store store;
    private final Tresor tresor;
    private final Caller admin;

    BulkLoad(Path config, String adminIdentity) {
        ServerSettings s = ConfigLoader.load(config);
        this.store = Stores.open(s.store());
        this.tresor = Tresor.open(store, LocalKeyProvider.load(s.keyFile()), IntegrityMonitor.NONE, Clock.systemUTC());
        tresor.bootstrapAdmin("admin", adminIdentity); // a no-op on SQLite (tresor init did it); needed on a fresh PostgreSQL
        this.admin = tresor.authenticate(adminIdentity);
    }

    /** Groups, the reader and the lister clients and their memberships. */
    void setUp(String readerIdentity, String listerIdentity) {
        for (String g : List.of(READERS, TEN, BULK)) {
            tresor.createGroup(admin, g, "scale benchmark");
        }
        tresor.createClient(admin, "reader", readerIdentity, false);
        tresor.createClient(admin, "lister", listerIdentity, false);
        tresor.addMember(admin, READERS, "reader", Role.READ);
        tresor.addMember(admin, TEN, "lister", Role.READ);
    }

    static String name(int i) {
        return String.format("scale/%02d/s-%07d", i % 100, i);
    }

    /**
     * Puts secrets number {@code from} (inclusive) to {@code to} (exclusive) with 64-byte values,
     * from {@code threads} threads at once (each put still its own durable transaction): the
     * encryption and sealing of one put overlap the commit of another, as with concurrent API
     * clients.
     */
    void put(int from, int to, int threads, java.util.function.IntConsumer progress) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(from);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger(from);
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, threads))) {
            List<java.util.concurrent.Future<?>> workers = new java.util.ArrayList<>();
            for (int t = 0; t < Math.max(1, threads); t++) {
                workers.add(pool.submit(() -> {
                    SecureRandom random = new SecureRandom();
                    for (int i = next.getAndIncrement(); i < to; i = next.getAndIncrement()) {
                        byte[] value = Populate.randomText(random, 64).getBytes(StandardCharsets.US_ASCII);
                        String group = i < 100 ? READERS : i < 110 ? TEN : BULK;
                        tresor.secrets().put(admin, name(i), new PutSecret(value, null, null, List.of(group), null, null, null),
                                tresor.groupCheck());
                        progress.accept(done.getAndIncrement());
                    }
                    return null;
                }));
            }
            for (var w : workers) {
                try {
                    w.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("bulk load failed", e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("bulk load interrupted", e);
                }
            }
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
