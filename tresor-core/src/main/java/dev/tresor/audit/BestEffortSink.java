package dev.tresor.audit;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sink that must never hold up a request: {@link #offer} puts the record in a bounded buffer
 * and returns at once; one thread writes the buffer to the wrapped sink. While that sink is down
 * the records at the head are retried (every {@code retryEvery}), so an outage shorter than the
 * buffer loses nothing; a full buffer drops new records and counts them. Used for collectors
 * (syslog, standard output) that are copies for a SIEM, never the evidence the server depends on:
 * the required sinks (the file chain) decide whether a request may proceed.
 */
public final class BestEffortSink implements AutoCloseable {

    /** Told the time each write to the wrapped sink took, for a latency histogram. */
    @FunctionalInterface
    public interface WriteTimer {
        void record(long nanos);

        WriteTimer NONE = nanos -> { };
    }

    private static final Logger LOG = LoggerFactory.getLogger(BestEffortSink.class);
    private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Records per write to the wrapped sink at most. */
    private static final int MAX_BATCH = 256;
    /** How long the writer waits after a write that did not fill a batch. */
    static final Duration LINGER = Duration.ofMillis(20);

    private final AuditSink sink;
    /**
     * Lock-free: request threads only append, the writer only polls; nobody signals anybody (the
     * writer looks every {@link #LINGER}), because a contended lock and a wake-up per record cost
     * a read more than the copy itself.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<AuditEvent> buffer =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger buffered = new java.util.concurrent.atomic.AtomicInteger();
    private final int capacity;
    private final Duration retryEvery;
    private final WriteTimer timer;
    private final LongAdder written = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread writer;
    private long lastWarning;

    public BestEffortSink(AuditSink sink, int capacity, Duration retryEvery, WriteTimer timer) {
        this.sink = Objects.requireNonNull(sink, "sink");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.capacity = capacity;
        this.retryEvery = Objects.requireNonNull(retryEvery, "retryEvery");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.writer = Thread.ofVirtual().name("tresor-audit-best-effort[" + sink.name() + "]").start(this::run);
    }

    /** Buffers {@code event} for the wrapped sink; never blocks, never fails (a full buffer counts a drop). */
    public void offer(AuditEvent event) {
        if (closed.get()) {
            dropped.increment();
            return;
        }
        if (buffered.incrementAndGet() > capacity) {
            buffered.decrementAndGet();
            dropped.increment();
            return;
        }
        buffer.add(event);
    }

    public String name() {
        return sink.name();
    }

    /** Records the wrapped sink has taken. */
    public long written() {
        return written.sum();
    }

    /** Writes that failed (each is retried). */
    public long failed() {
        return failed.sum();
    }

    /** Records dropped because the buffer was full (or the sink closed). */
    public long dropped() {
        return dropped.sum();
    }

    public int queueDepth() {
        return buffered.get();
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (!closed.get() || !buffer.isEmpty()) {
                // What queued up since the last write goes in one write: under load the cost of a
                // TLS record and a system call is shared by many records.
                batch.clear();
                AuditEvent next;
                while (batch.size() < MAX_BATCH && (next = buffer.poll()) != null) {
                    batch.add(next);
                }
                if (batch.isEmpty()) {
                    Thread.sleep(LINGER);
                    continue;
                }
                buffered.addAndGet(-batch.size());
                while (!deliver(batch)) {
                    if (closed.get()) {
                        dropped.add(batch.size()); // closing: no more retries
                        break;
                    }
                    Thread.sleep(retryEvery);
                }
                if (batch.size() < MAX_BATCH && !closed.get()) {
                    Thread.sleep(LINGER); // let records gather: a copy is at most this much later
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean deliver(List<AuditEvent> batch) {
        long start = System.nanoTime();
        try {
            sink.appendAll(batch);
            timer.record(System.nanoTime() - start);
            written.add(batch.size());
            return true;
        } catch (IOException | RuntimeException e) {
            failed.increment();
            long now = System.nanoTime();
            if (lastWarning == 0 || now - lastWarning > WARN_EVERY_NANOS) {
                lastWarning = now;
                LOG.warn("best-effort audit sink {} cannot write (records are buffered, {} queued, {} dropped so far;"
                        + " requests go on): {}", sink.name(), buffered.get() + batch.size(), dropped.sum(),
                        e.getMessage());
            }
            return false;
        }
    }

    /**
     * Stops taking records, gives the writer up to {@code drainFor} to deliver what is buffered,
     * then closes the wrapped sink.
     */
    public void close(Duration drainFor) {
        closed.set(true);
        try {
            if (!writer.join(drainFor)) {
                writer.interrupt();
                writer.join(Duration.ofSeconds(1));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dropped.add(buffered.getAndSet(0));
        buffer.clear();
        try {
            sink.close();
        } catch (Exception e) {
            LOG.debug("closing best-effort audit sink {}: {}", sink.name(), e.getMessage());
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }
}
