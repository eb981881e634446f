package dev.tresor.cache;

import dev.tresor.access.Caller;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import dev.tresor.store.Store;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Rows that passed every integrity check (MACs, group digests, ACL head, secret ledger), reused
 * while the database provably has not changed: each {@link View} belongs to one
 * {@link Store#changeToken() change token}, and any commit (by this node, another node, or
 * someone writing the database behind Tresor's back) yields a new token, hence an empty view.
 * A tampered row is therefore still read and refused on the very next request.
 *
 * <p>What is kept is what the database holds: values and data keys stay encrypted, and every
 * read still unwraps the data key and decrypts the value. Nothing that failed a check, and no
 * refusal, is kept.
 *
 * <p>Rows are only ever put in a view from a read that started after its token was taken, so a
 * view never holds rows older than its token. Bounded: a full map is emptied rather than grown.
 */
public final class VerifiedRows {

    /** Versions with bigger ciphertexts are read from the store each time (bounds memory). */
    public static final int MAX_CACHED_CIPHERTEXT = 4096;

    private final Store store;
    private final int maxEntries;
    private final AtomicReference<View> current = new AtomicReference<>();

    public VerifiedRows(Store store, int maxEntries) {
        this.store = Objects.requireNonNull(store, "store");
        if (maxEntries < 0) {
            throw new IllegalArgumentException("maxEntries must not be negative: " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    /** The view for the store as it is now; take one per request, before reading anything. */
    public View current() {
        if (maxEntries == 0) {
            return View.NONE;
        }
        Object token = store.changeToken();
        View view = current.get();
        if (view != null && view.token.equals(token)) {
            return view;
        }
        View fresh = new View(token, maxEntries);
        current.set(fresh);
        return fresh;
    }

    /** Verified rows of one state of the database. */
    public static final class View {

        /** Keeps nothing: for reads inside write transactions and for confirming a suspicion. */
        public static final View NONE = new View(new Object(), 0);

        private final Object token;
        private final int maxEntries;
        private final ConcurrentHashMap<String, Caller> callers = new ConcurrentHashMap<>();
        private final ConcurrentHashMap<String, SecretRow> secrets = new ConcurrentHashMap<>();
        private final ConcurrentHashMap<VersionKey, VersionRow> versions = new ConcurrentHashMap<>();

        private View(Object token, int maxEntries) {
            this.token = token;
            this.maxEntries = maxEntries;
        }

        private record VersionKey(String secret, int version) {}

        private volatile java.util.Set<String> revokedSerials;

        /**
         * The revoked serials of this state of the database, loaded once per state: a request pays
         * one set lookup, and any commit (a revocation on any node) makes the next request reload.
         * {@link #NONE} loads every time.
         */
        public java.util.Set<String> revokedSerials(java.util.function.Supplier<java.util.Set<String>> load) {
            if (maxEntries == 0) {
                return load.get();
            }
            java.util.Set<String> known = revokedSerials;
            if (known == null) {
                known = java.util.Set.copyOf(load.get());
                revokedSerials = known;
            }
            return known;
        }

        /** The authenticated caller for a certificate identity, or null. */
        public Caller caller(String identity) {
            return maxEntries == 0 ? null : callers.get(identity);
        }

        public void putCaller(String identity, Caller caller) {
            put(callers, identity, caller);
        }

        /** A secret row whose MAC verified and that the secret ledger lists as current, or null. */
        public SecretRow secret(String name) {
            return maxEntries == 0 ? null : secrets.get(name);
        }

        public void putSecret(SecretRow row) {
            put(secrets, row.name(), row);
        }

        /** A version row whose MAC verified, or null. */
        public VersionRow version(String secret, int version) {
            return maxEntries == 0 ? null : versions.get(new VersionKey(secret, version));
        }

        public void putVersion(VersionRow row) {
            if (row.ciphertext() != null && row.ciphertext().length > MAX_CACHED_CIPHERTEXT) {
                return;
            }
            put(versions, new VersionKey(row.secret(), row.version()), row);
        }

        private <K, V> void put(ConcurrentHashMap<K, V> map, K key, V value) {
            if (maxEntries == 0) {
                return;
            }
            if (map.size() >= maxEntries) {
                map.clear();
            }
            map.put(key, value);
        }
    }
}
