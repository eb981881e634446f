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

    private final AuditSink sink;
    private final BlockingQueue<AuditEvent> buffer;
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
        this.buffer = new ArrayBlockingQueue<>(capacity);
        this.retryEvery = Objects.requireNonNull(retryEvery, "retryEvery");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.writer = Thread.ofVirtual().name("tresor-audit-best-effort[" + sink.name() + "]").start(this::run);
    }

    /** Buffers {@code event} for the wrapped sink; never blocks, never fails (a full buffer counts a drop). */
    public void offer(AuditEvent event) {
        if (closed.get() || !buffer.offer(event)) {
            dropped.increment();
        }
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
        return buffer.size();
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (!closed.get() || !buffer.isEmpty()) {
                AuditEvent next = buffer.poll(100, TimeUnit.MILLISECONDS);
                if (next == null) {
                    continue;
                }
                // What queued up while the last batch was written goes in one write: under load the
                // cost of a TLS record and a system call is shared by many records.
                batch.clear();
                batch.add(next);
                buffer.drainTo(batch, MAX_BATCH - 1);
                while (!deliver(batch)) {
                    if (closed.get()) {
                        dropped.add(batch.size()); // closing: no more retries
                        break;
                    }
                    Thread.sleep(retryEvery);
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
                        + " requests go on): {}", sink.name(), buffer.size(), dropped.sum(), e.getMessage());
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
        dropped.add(buffer.size());
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
