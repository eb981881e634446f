package dev.tresor.feed;

import dev.tresor.access.Caller;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.Failure;
import dev.tresor.model.TresorException;
import dev.tresor.store.Rows.ChangeBounds;
import dev.tresor.store.Rows.ChangeRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change feed behind {@code GET /v1/watch}: pages of the store's change table filtered to what
 * one caller may know, long-polling without a thread of its own per watcher (a waiting watcher is
 * a parked virtual thread), woken when the store reports a commit (see {@link Store#watchChanges}).
 *
 * <p>Filtering decides on the caller's access <em>now</em>, against sealed secret rows: a change is
 * shown only if the caller may read the secret, except {@code revoked}, shown only to the callers
 * it affected (members of the group, or the client that left it) who can no longer read it, so a
 * watcher never learns a name it could not list.
 *
 * <p>Also records {@code expired} changes as version expiry times pass (once per version, also
 * with several nodes: under the store head lock) and prunes entries older than the retention.
 */
public final class ChangeFeed implements AutoCloseable {

    public static final int MAX_CHANGES_PER_PAGE = 500;
    /** Rows read per page at most, visible or not: bounds the work of one answer. */
    static final int SCAN_LIMIT = 5_000;
    static final int EXPIRIES_PER_PASS = 500;

    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);

    public record Settings(Duration retention, Duration expiryScan, Duration pruneEvery) {
        public static Settings defaults() {
            return new Settings(Duration.ofHours(24), Duration.ofSeconds(1), Duration.ofMinutes(1));
        }
    }

    private final Store store;
    private final RowSeals seals;
    private final Clock clock;
    private final Settings settings;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition moved = lock.newCondition();
    /** The newest sequence the store was last seen to hold (may go down if it was put back). */
    private long newest;
    /** Counts re-reads that changed {@link #newest}; a waiter compares it to tell "moved". */
    private long generation;
    private long expiriesScannedUpTo;
    private boolean closed;
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();
    private AutoCloseable watch;
    private ScheduledExecutorService chores;

    private final Runnable onCommit;

    /**
     * {@code onCommit} runs on every commit notification before watchers are woken: the node's
     * integrity marks follow other nodes' commits there (see {@code Tresor#followCommits}).
     */
    public ChangeFeed(Store store, RowSeals seals, Clock clock, Settings settings, Runnable onCommit) {
        this.store = store;
        this.seals = seals;
        this.clock = clock;
        this.settings = settings;
        this.onCommit = onCommit;
    }

    /** Starts the wake-ups, the expiry recorder and the pruning. */
    public void start() {
        newest = store.read(r -> r.changeBounds().newest());
        // Versions that expired while no node ran are recorded too, as far back as the feed keeps.
        expiriesScannedUpTo = clock.millis() - settings.retention().toMillis();
        watch = store.watchChanges(() -> {
            quietly("following the store's heads", onCommit);
            recheck();
        });
        chores = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("tresor-feed-chores").factory());
        chores.scheduleWithFixedDelay(() -> quietly("recording expiries", this::recordExpiries), 0,
                settings.expiryScan().toMillis(), TimeUnit.MILLISECONDS);
        chores.scheduleWithFixedDelay(() -> quietly("pruning", this::prune), settings.pruneEvery().toMillis(),
                settings.pruneEvery().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Where a new watcher starts: everything up to here is covered by what it lists next. */
    public long head() {
        return store.read(r -> r.changeBounds().newest());
    }

    /**
     * The changes after {@code since} that concern the caller, waiting up to {@code wait} for one.
     * {@code caller} is asked again after each wake-up, so a membership change during the wait
     * counts. Skipped entries (not the caller's) still move the cursor, but the answer is not sent
     * before the wait ends: its timing tells nothing about other secrets.
     *
     * @throws TresorException GONE if the cursor is older than what is kept or newer than the store
     */
    public FeedPage await(Supplier<Caller> caller, long since, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
        long cursor = since;
        while (true) {
            long seenGeneration;
            lock.lock();
            try {
                seenGeneration = generation;
            } finally {
                lock.unlock();
            }
            FeedPage page = page(caller.get(), cursor);
            if (!page.changes().isEmpty() || page.more()) {
                return page;
            }
            cursor = page.cursor();
            lock.lock();
            waiting.incrementAndGet();
            try {
                while (generation == seenGeneration) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || closed) {
                        return page;
                    }
                    moved.awaitNanos(left);
                }
            } finally {
                waiting.decrementAndGet();
                lock.unlock();
            }
        }
    }

    /** Watchers waiting for a change right now (for metrics). */
    public int waiting() {
        return waiting.get();
    }

    /** One page at once (no waiting). */
    public FeedPage page(Caller caller, long since) {
        return store.read(r -> {
            ChangeBounds bounds = r.changeBounds();
            if (since > bounds.newest()) {
                throw new TresorException(Failure.GONE, "cursor " + since + " is newer than any change this store holds "
                        + "(newest " + bounds.newest() + "; the store was restored from an older copy?): re-list your secrets "
                        + "and start again from GET /v1/watch without since");
            }
            if (bounds.oldest() > 0 && since < bounds.oldest() - 1) {
                throw new TresorException(Failure.GONE, "cursor " + since + " is older than the oldest change kept ("
                        + bounds.oldest() + "; changes are kept " + settings.retention() + "): re-list your secrets and "
                        + "start again from GET /v1/watch without since");
            }
            List<ChangeRow> rows = r.changesAfter(since, SCAN_LIMIT);
            Map<String, Optional<SecretRow>> secrets = new HashMap<>();
            List<Change> shown = new ArrayList<>();
            long cursor = since;
            for (ChangeRow row : rows) {
                if (shown.size() == MAX_CHANGES_PER_PAGE) {
                    return new FeedPage(cursor, shown, true);
                }
                cursor = row.seq();
                Change change = visible(r, caller, row, secrets);
                if (change != null) {
                    shown.add(change);
                }
            }
            return new FeedPage(cursor, shown, rows.size() == SCAN_LIMIT);
        });
    }

    private Change visible(StoreReader r, Caller caller, ChangeRow row, Map<String, Optional<SecretRow>> secrets) {
        ChangeKind kind = ChangeKind.fromWire(row.kind());
        if (kind == null) {
            return null;
        }
        SecretRow secret = secrets.computeIfAbsent(row.secret(), name -> r.secret(name).filter(seals::valid)).orElse(null);
        boolean readable = secret != null && (caller.admin() || caller.sharesGroupWith(secret.groups()));
        boolean affected = row.scopeGroup() != null ? caller.groups().containsKey(row.scopeGroup())
                : row.scopeClient() == null || row.scopeClient().equals(caller.name());
        boolean show = kind == ChangeKind.REVOKED ? affected && !readable : affected && readable;
        return show ? new Change(row.seq(), kind, row.secret(), row.version(), row.label(), Instant.ofEpochMilli(row.at()))
                : null;
    }

    /** Called by the store's watch (possibly spuriously): re-reads the newest sequence and wakes waiters if it moved. */
    private void recheck() {
        long now = store.read(r -> r.changeBounds().newest());
        lock.lock();
        try {
            if (now != newest) {
                newest = now;
                generation++;
                moved.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    void recordExpiries() {
        long now = clock.millis();
        List<VersionRow> due = store.read(r -> r.versionsExpiring(expiriesScannedUpTo, now, EXPIRIES_PER_PASS));
        if (!due.isEmpty()) {
            store.write(w -> {
                // First, so two nodes recording the same expiry queue here and the second sees the first's entry.
                w.lockStoreHead();
                for (VersionRow v : due) {
                    if (seals.valid(v) && !w.expiryRecorded(v.secret(), v.version())) {
                        w.appendChange(new ChangeRow(0, v.expiresAt(), ChangeKind.EXPIRED.wireName(), v.secret(),
                                v.version(), null, null, null));
                    }
                }
                return null;
            });
        }
        expiriesScannedUpTo = due.size() == EXPIRIES_PER_PASS ? due.getLast().expiresAt() : now;
    }

    void prune() {
        long cutoff = clock.millis() - settings.retention().toMillis();
        int removed = store.write(w -> w.pruneChanges(cutoff));
        if (removed > 0) {
            log.debug("change feed: pruned {} entries older than {}", removed, settings.retention());
        }
    }

    private static void quietly(String what, Runnable chore) {
        try {
            chore.run();
        } catch (RuntimeException e) {
            log.warn("change feed: {} failed: {}", what, e.getMessage());
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            generation++;
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        if (chores != null) {
            chores.shutdownNow();
        }
        if (watch != null) {
            try {
                watch.close();
            } catch (Exception e) {
                log.warn("change feed: stopping the store watch failed: {}", e.getMessage());
            }
        }
    }
}
