package dev.tresor.audit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the server calls for every request: hands a record to every sink and returns once at
 * least one of them has written it, or throws {@link AuditUnavailableException} within the write
 * timeout so the request can be answered 503.
 *
 * <p>A sink that can only write by blocking writes on a virtual thread of its own, so a sink whose
 * write blocks forever (a hung NFS mount, a stuck remote collector) cannot hang a request beyond
 * the timeout. The file sink queues the record and, when no one else is writing, writes the queue
 * on the caller's thread ({@link FileAuditSink}): only a write(2) hung in the kernel then holds
 * that one caller; every other caller still fails at the timeout. Each sink may have at most {@code maxPendingPerSink} writes in flight; beyond that the
 * sink counts as failed for the record at once instead of piling up threads, so a stuck sink costs
 * bounded memory and a request fails fast rather than waiting out the timeout.
 *
 * <p>One sweeper thread fails every wait whose timeout has passed (checking every 100 ms, or a
 * quarter of the timeout if that is shorter), so a caller waits at most the timeout plus one sweep.
 *
 * <p>A write that completes after its caller gave up still lands in the log: the record then
 * describes a request that was answered 503, which errs on the side of more evidence.
 */
public final class AuditLog implements AutoCloseable {

    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(2);
    public static final int DEFAULT_MAX_PENDING_PER_SINK = 4_096;
    private static final Duration SWEEP_INTERVAL = Duration.ofMillis(100);

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

    private final List<Lane> lanes;
    /** The first lanes, of which one write suffices; the rest must each write. */
    private final int anyOfLanes;
    private final int requiredLanes;
    private final List<BestEffortSink> copies;
    private final Duration writeTimeout;
    private final long writeTimeoutNanos;
    private final LongAdder failures = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Attempts not yet known to be over, in the order (and so nearly the deadline order) they began. */
    private final ConcurrentLinkedQueue<Attempt> waiting = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService deadlines;

    public AuditLog(List<? extends AuditSink> sinks, Duration writeTimeout) {
        this(sinks, writeTimeout, DEFAULT_MAX_PENDING_PER_SINK);
    }

    /**
     * @param sinks             where records go; at least one
     * @param writeTimeout      how long {@link #record} may wait for a sink to confirm a write
     * @param maxPendingPerSink writes a sink may have in flight before it is treated as failed
     */
    public AuditLog(List<? extends AuditSink> sinks, Duration writeTimeout, int maxPendingPerSink) {
        this(sinks, List.of(), writeTimeout, maxPendingPerSink);
    }

    /**
     * As above, also handing every record to {@code copies} (collectors for a SIEM), which are
     * never waited for: whether a request may proceed is decided by {@code sinks} alone.
     */
    public AuditLog(List<? extends AuditSink> sinks, List<BestEffortSink> copies, Duration writeTimeout,
                    int maxPendingPerSink) {
        this(sinks, List.of(), copies, writeTimeout, maxPendingPerSink);
    }

    /**
     * As above, with sinks that must <em>each</em> take every record ({@code mode: required} for a
     * remote collector): a record counts as written once one of {@code sinks} and every one of
     * {@code requiredSinks} has it, and a request fails (503) when any required sink fails or is
     * too slow. For deployments where a request must not proceed unless the SIEM has its record.
     */
    public AuditLog(List<? extends AuditSink> sinks, List<? extends AuditSink> requiredSinks,
                    List<BestEffortSink> copies, Duration writeTimeout, int maxPendingPerSink) {
        Objects.requireNonNull(sinks, "sinks");
        Objects.requireNonNull(requiredSinks, "requiredSinks");
        this.copies = List.copyOf(Objects.requireNonNull(copies, "copies"));
        Objects.requireNonNull(writeTimeout, "writeTimeout");
        if (sinks.isEmpty()) {
            throw new IllegalArgumentException("an audit log needs at least one sink");
        }
        if (writeTimeout.isNegative() || writeTimeout.isZero()) {
            throw new IllegalArgumentException("writeTimeout must be positive: " + writeTimeout);
        }
        if (maxPendingPerSink < 1) {
            throw new IllegalArgumentException("maxPendingPerSink must be at least 1: " + maxPendingPerSink);
        }
        List<Lane> built = new ArrayList<>(sinks.size());
        for (AuditSink sink : sinks) {
            built.add(new Lane(Objects.requireNonNull(sink, "sink"), maxPendingPerSink, false));
        }
        for (AuditSink sink : requiredSinks) {
            built.add(new Lane(Objects.requireNonNull(sink, "sink"), maxPendingPerSink, true));
        }
        this.lanes = List.copyOf(built);
        this.anyOfLanes = sinks.size();
        this.requiredLanes = requiredSinks.size();
        this.writeTimeout = writeTimeout;
        this.writeTimeoutNanos = writeTimeout.toNanos();
        // One thread enforces every caller's deadline: a timed wait per request would make each
        // waiting virtual thread schedule and cancel a timer, a context switch pair per request.
        // A caller may wait up to one sweep interval longer than the timeout.
        long sweepNanos = Math.max(1, Math.min(SWEEP_INTERVAL.toNanos(), writeTimeoutNanos / 4));
        this.deadlines = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("tresor-audit-deadlines").factory());
        deadlines.scheduleWithFixedDelay(this::expireOverdue, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Records {@code event}: returns once at least one sink has handed it to the operating system.
     *
     * @throws AuditUnavailableException if no sink confirmed it within the write timeout, or every
     *                                   sink failed; the caller must not serve the request
     */
    public void record(AuditEvent event) {
        Objects.requireNonNull(event, "event");
        if (closed.get()) {
            failures.increment();
            throw new AuditUnavailableException("the audit log is closed");
        }
        Attempt attempt = new Attempt(anyOfLanes, requiredLanes, System.nanoTime() + writeTimeoutNanos);
        waiting.add(attempt);
        if (closed.get()) {
            // close() may have swept the queue before this attempt joined it.
            attempt.expire();
        }
        for (Lane lane : lanes) {
            lane.submit(event, attempt);
        }
        for (BestEffortSink copy : copies) {
            copy.offer(event);
        }
        try {
            attempt.anyWritten.get();
        } catch (ExecutionException e) {
            failures.increment();
            if (e.getCause() instanceof TimeoutException) {
                throw new AuditUnavailableException("no audit sink confirmed the record within " + writeTimeout
                        + attempt.describeFailures());
            }
            throw new AuditUnavailableException(e.getCause().getMessage() + attempt.describeFailures());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.increment();
            throw new AuditUnavailableException("interrupted while waiting for the audit log");
        }
    }

    /**
     * Fails every attempt whose deadline has passed; drops finished ones. Attempts join the queue in
     * the order they begin, with the same timeout, so deadlines are in order up to the few
     * nanoseconds between taking the time and joining: stopping at the first live attempt whose
     * deadline lies ahead can delay a later one by that much, never by a sweep.
     */
    private void expireOverdue() {
        try {
            long now = System.nanoTime();
            for (Attempt head = waiting.peek(); head != null; head = waiting.peek()) {
                if (!head.anyWritten.isDone() && head.deadlineNanos - now > 0) {
                    return;
                }
                waiting.poll();
                if (!head.anyWritten.isDone()) {
                    head.expire();
                }
            }
        } catch (RuntimeException | Error e) {
            // A sweeper that died would leave callers waiting forever; keep sweeping.
            log.error("audit deadline sweep failed", e);
        }
    }

    /** How many records could not be audited (calls of {@link #record} that threw). */
    public long failures() {
        return failures.sum();
    }

    /** Per sink name: writes that failed or were refused because too many were pending (for metrics). */
    public Map<String, Long> sinkFailures() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Lane lane : lanes) {
            counts.merge(lane.sink.name(), lane.failures.sum(), Long::sum);
        }
        return counts;
    }

    /** The best-effort copies (for their metrics). */
    public List<BestEffortSink> copies() {
        return copies;
    }

    public Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * Stops accepting records and closes every sink, waiting at most the write timeout for each,
     * so a stuck sink cannot hang shutdown either.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            closeSinks();
            for (BestEffortSink copy : copies) {
                copy.close(writeTimeout);
            }
        } finally {
            deadlines.shutdownNow();
            // Whoever still waits would wait for a sweeper that is gone: end their wait now.
            for (Attempt attempt = waiting.poll(); attempt != null; attempt = waiting.poll()) {
                attempt.expire();
            }
        }
    }

    private void closeSinks() {
        for (Lane lane : lanes) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            lane.threads.newThread(() -> {
                try {
                    lane.sink.close();
                    done.complete(null);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            }).start();
            try {
                done.get(writeTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                log.warn("audit sink {} did not close within {}", lane.sink.name(), writeTimeout);
            } catch (ExecutionException e) {
                log.warn("audit sink {} failed to close: {}", lane.sink.name(), e.getCause().getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * One record's fan-out: completes once one of the any-of sinks and every required sink
     * confirmed it; fails when every any-of sink failed, or any required sink did.
     */
    private static final class Attempt {
        final CompletableFuture<Void> anyWritten = new CompletableFuture<>();
        final AtomicInteger failedSinks = new AtomicInteger();
        final AtomicBoolean oneOfAnyWritten = new AtomicBoolean();
        final AtomicInteger requiredLeft;
        final ConcurrentLinkedQueue<String> reasons = new ConcurrentLinkedQueue<>();
        final int sinks;
        final long deadlineNanos;

        Attempt(int sinks, int required, long deadlineNanos) {
            this.sinks = sinks;
            this.requiredLeft = new AtomicInteger(required);
            this.deadlineNanos = deadlineNanos;
        }

        void written(boolean required) {
            if (required) {
                if (requiredLeft.decrementAndGet() == 0 && oneOfAnyWritten.get()) {
                    anyWritten.complete(null);
                }
            } else if (oneOfAnyWritten.compareAndSet(false, true) && requiredLeft.get() == 0) {
                anyWritten.complete(null);
            }
        }

        void failedRequired(String reason) {
            reasons.add(reason);
            anyWritten.completeExceptionally(new IllegalStateException("a required audit sink failed"));
        }

        /** Ends the wait as timed out unless a sink already decided it. */
        void expire() {
            anyWritten.completeExceptionally(new TimeoutException());
        }

        void failed(String reason) {
            reasons.add(reason);
            if (failedSinks.incrementAndGet() == sinks) {
                anyWritten.completeExceptionally(new IllegalStateException("every audit sink failed"));
            }
        }

        String describeFailures() {
            return reasons.isEmpty() ? "" : " (" + String.join("; ", reasons) + ")";
        }
    }

    /** A sink with its bounded set of in-flight writes. */
    private static final class Lane {
        final AuditSink sink;
        final Semaphore slots;
        final int maxPending;
        final ThreadFactory threads;
        /** A thread per write, for sinks that write only by blocking (see {@link AuditSink#appendAsync}). */
        final java.util.concurrent.Executor blockingWriters;
        final LongAdder failures = new LongAdder();
        final AtomicBoolean failing = new AtomicBoolean();
        final boolean required;

        Lane(AuditSink sink, int maxPending, boolean required) {
            this.sink = sink;
            this.required = required;
            this.maxPending = maxPending;
            this.slots = new Semaphore(maxPending);
            this.threads = Thread.ofVirtual().name("tresor-audit-" + sink.name() + "-", 0).factory();
            this.blockingWriters = command -> threads.newThread(command).start();
        }

        void submit(AuditEvent event, Attempt attempt) {
            if (!slots.tryAcquire()) {
                failures.increment();
                fail(attempt, sink.name() + ": " + maxPending + " writes already pending — the sink is stuck or too slow");
                markFailing("too many writes pending");
                return;
            }
            CompletableFuture<?> write;
            try {
                write = sink.appendAsync(event, blockingWriters);
            } catch (RuntimeException | OutOfMemoryError e) {
                slots.release();
                failures.increment();
                fail(attempt, sink.name() + ": cannot start the write: " + e);
                return;
            }
            write.whenComplete((ignored, error) -> {
                try {
                    if (error == null) {
                        attempt.written(required);
                        if (failing.compareAndSet(true, false)) {
                            log.info("audit sink {} is writing again", sink.name());
                        }
                    } else {
                        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                                ? error.getCause() : error;
                        failures.increment();
                        String reason = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
                        fail(attempt, sink.name() + ": " + reason);
                        markFailing(reason);
                    }
                } finally {
                    slots.release();
                }
            });
        }

        private void fail(Attempt attempt, String reason) {
            if (required) {
                attempt.failedRequired(reason);
            } else {
                attempt.failed(reason);
            }
        }

        private void markFailing(String reason) {
            // Log the transition, not every failure: a broken sink under load would flood the log.
            if (failing.compareAndSet(false, true)) {
                log.warn("audit sink {} is failing: {}", sink.name(), reason);
            }
        }
    }
}
