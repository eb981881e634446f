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
    private final SecureRandom random = new SecureRandom();

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

    /** Puts secrets number {@code from} (inclusive) to {@code to} (exclusive) with 64-byte values. */
    void put(int from, int to, java.util.function.IntConsumer progress) {
        byte[] value = new byte[64];
        for (int i = from; i < to; i++) {
            String text = Populate.randomText(random, 64);
            System.arraycopy(text.getBytes(StandardCharsets.US_ASCII), 0, value, 0, 64);
            String group = i < 100 ? READERS : i < 110 ? TEN : BULK;
            tresor.secrets().put(admin, name(i), new PutSecret(value.clone(), null, null, List.of(group), null, null, null),
                    tresor.groupCheck());
            progress.accept(i);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
