package dev.tresor.audit;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the checkpoints of the file logs: when {@code recordsBetween} records were written since the
 * last one, or {@code interval} has passed and anything was written, at start and at close. Each is
 * a record in the log carrying the store's epochs and a sealed row in the store naming that record,
 * so the next start reads only the tail, and catches a log or a store that went back (see
 * {@link FileAuditSink#checkpoint}). A checkpoint that fails is logged and counted, not fatal: the
 * next start then begins from the previous one.
 */
public final class AuditCheckpointer implements AutoCloseable {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    public static final long DEFAULT_RECORDS_BETWEEN = 100_000;

    /** Where the sealed checkpoints are kept: the store, in one row per log. */
    @FunctionalInterface
    public interface CheckpointStore {
        void save(String log, String sealedCheckpoint);
    }

    private static final Logger LOG = LoggerFactory.getLogger(AuditCheckpointer.class);
    private static final long POLL_MILLIS = 250;

    private final List<FileAuditSink> logs;
    private final Supplier<Optional<WriteEpochs>> epochs;
    private final CheckpointStore store;
    private final Duration interval;
    private final long recordsBetween;
    private final Clock clock;
    private final long[] checkpointedSeq;
    private final Instant[] checkpointedAt;
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition stopRequested = lock.newCondition();
    private boolean stopping;
    private Thread thread;

    public AuditCheckpointer(List<FileAuditSink> logs, Supplier<Optional<WriteEpochs>> epochs, CheckpointStore store,
                             Duration interval, long recordsBetween, Clock clock) {
        this.logs = List.copyOf(logs);
        this.epochs = Objects.requireNonNull(epochs, "epochs");
        this.store = Objects.requireNonNull(store, "store");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.isNegative() || interval.isZero() || recordsBetween < 1) {
            throw new IllegalArgumentException("checkpoint interval and record count must be positive");
        }
        this.recordsBetween = recordsBetween;
        this.checkpointedSeq = new long[this.logs.size()];
        this.checkpointedAt = new Instant[this.logs.size()];
    }

    /**
     * Checkpoints every log now (so that a start, and an accepted rollback in particular, is
     * anchored at once), then keeps doing so in the background.
     */
    public void start() {
        for (int i = 0; i < logs.size(); i++) {
            checkpoint(i);
        }
        thread = Thread.ofVirtual().name("tresor-audit-checkpoints").start(this::run);
    }

    /** Checkpoints taken and failed so far. */
    public long taken() {
        return taken.get();
    }

    public long failed() {
        return failed.get();
    }

    /** Stops the background checkpoints and takes a last one of every log. */
    @Override
    public void close() {
        lock.lock();
        try {
            stopping = true;
            stopRequested.signalAll();
        } finally {
            lock.unlock();
        }
        if (thread != null) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        // Always, even with no record since the last one: the store may have moved on (a write
        // whose record is in another sink), and a clean stop must leave the newest epochs recorded.
        for (int i = 0; i < logs.size(); i++) {
            if (logs.get(i).healthy()) {
                checkpoint(i);
            }
        }
    }

    private void run() {
        while (awaitTick()) {
            Instant now = clock.instant();
            for (int i = 0; i < logs.size(); i++) {
                long behind = logs.get(i).writtenSeq() - checkpointedSeq[i];
                boolean due = behind >= recordsBetween
                        || (behind > 0 && !now.isBefore(checkpointedAt[i].plus(interval)));
                if (due && logs.get(i).healthy()) {
                    checkpoint(i);
                }
            }
        }
    }

    private boolean awaitTick() {
        lock.lock();
        try {
            long wait = TimeUnit.MILLISECONDS.toNanos(Math.min(POLL_MILLIS, interval.toMillis()));
            while (!stopping && wait > 0) {
                wait = stopRequested.awaitNanos(wait);
            }
            return !stopping;
        } catch (InterruptedException e) {
            return false;
        } finally {
            lock.unlock();
        }
    }

    private void checkpoint(int i) {
        FileAuditSink log = logs.get(i);
        checkpointedAt[i] = clock.instant();
        Optional<WriteEpochs> now;
        try {
            now = epochs.get();
        } catch (RuntimeException e) {
            now = Optional.empty();
            LOG.warn("audit checkpoint of {}: cannot read the store's epochs: {}", log.file(), e.getMessage());
        }
        if (now.isEmpty()) {
            failed.incrementAndGet();
            LOG.warn("audit checkpoint of {} skipped: the store head does not verify", log.file());
            return;
        }
        try {
            Checkpoint.Sealed sealed = log.checkpoint(now.get());
            store.save(sealed.log(), sealed.record());
            checkpointedSeq[i] = sealed.seq();
            taken.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            failed.incrementAndGet();
            LOG.warn("audit checkpoint of {} failed (the next start verifies from the previous one): {}",
                    log.file(), e.getMessage());
        }
    }
}
