package dev.tresor.audit;

import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Rows.AuditRecordRow;
import dev.tresor.store.Store;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies one node's audit records into the shared store ({@code audit_records}), so that
 * {@code GET /v1/audit} on any node can answer with every node's records (issue 17). The node's
 * chained file stays the evidence; this is its searchable copy, kept off the request path: the
 * file log hands each written line to {@link #written} (a bounded queue, never blocking), and one
 * thread inserts them in batches. Nothing is lost for good: a copy that could not keep up (queue
 * full), a store that was down, or a node that was killed before its queue was copied is caught up
 * from the file, from the highest seq the store holds for this node (at start, and after any drop).
 * A record copied twice is one row. Each row carries the row MAC (every node holds the same row MAC
 * key), so {@link AuditReader} on another node refuses a copy edited or forged in the database.
 */
public final class AuditTableCopy implements AutoCloseable, FileAuditSink.WrittenRecords {

    private static final Logger log = LoggerFactory.getLogger(AuditTableCopy.class);
    static final int BATCH = 2_000;
    static final int BACKFILL_PAGE = 5_000;

    /** @param every how often queued records are inserted; @param retention how long copies are kept */
    public record Settings(Duration every, int capacity, Duration retention) {
        public static Settings defaults() {
            return new Settings(Duration.ofMillis(200), 20_000, Duration.ofDays(30));
        }
    }

    private final Store store;
    private final RowSeals seals;
    private final String node;
    private final Path logFile;
    private final Settings settings;
    private final Clock clock;
    private final BlockingQueue<FileAuditSink.WrittenRecord> queue;
    private final AtomicLong copied = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean catchUp = true;
    private volatile boolean closed;
    private Thread worker;
    private long lastPrune;

    public AuditTableCopy(Store store, RowSeals seals, String node, Path logFile, Settings settings, Clock clock) {
        this.store = store;
        this.seals = seals;
        this.node = node;
        this.logFile = logFile;
        this.settings = settings;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(settings.capacity());
    }

    /** Starts copying: first what the file holds beyond the store's copy, then as records are written. */
    public void start() {
        worker = Thread.ofPlatform().daemon().name("tresor-audit-copy").start(this::run);
    }

    @Override
    public void written(FileAuditSink.WrittenRecord record) {
        if (!queue.offer(record)) {
            dropped.incrementAndGet();
            catchUp = true; // the file has it: read back from there
        }
    }

    /** Records copied into the store so far by this node. */
    public long copied() {
        return copied.get();
    }

    /** Records the queue could not take (caught up from the file afterwards). */
    public long dropped() {
        return dropped.get();
    }

    /** Records waiting to be copied. */
    public int queued() {
        return queue.size();
    }

    public String node() {
        return node;
    }

    private void run() {
        long pause = settings.every().toMillis();
        while (!closed) {
            try {
                if (catchUp) {
                    catchUp = false;
                    catchUpFromFile();
                }
                drainOnce(pause);
                pruneIfDue();
                pause = settings.every().toMillis();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | IOException e) {
                // The store is unreachable (or the file unreadable): try again, from the file, after a pause.
                log.warn("audit copy to the store failed ({}); retrying from the log file", e.getMessage());
                catchUp = true;
                pause = Math.min(Math.max(pause * 2, 200), 10_000);
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException interrupted) {
                    break;
                }
            }
        }
    }

    private void drainOnce(long waitMillis) throws InterruptedException {
        FileAuditSink.WrittenRecord first = queue.poll(waitMillis, TimeUnit.MILLISECONDS);
        if (first == null) {
            return;
        }
        List<FileAuditSink.WrittenRecord> batch = new ArrayList<>();
        batch.add(first);
        queue.drainTo(batch, BATCH - 1);
        try {
            insert(rows(batch));
        } catch (RuntimeException e) {
            catchUp = true; // these are in the file: the catch-up copies them
            throw e;
        }
    }

    private List<AuditRecordRow> rows(List<FileAuditSink.WrittenRecord> written) {
        List<AuditRecordRow> rows = new ArrayList<>(written.size());
        for (FileAuditSink.WrittenRecord r : written) {
            rows.add(row(r.seq(), r.time().toEpochMilli(), r.client(), r.secret(), r.line()));
        }
        return rows;
    }

    private AuditRecordRow row(long seq, long atMillis, String client, String secret, String line) {
        return seals.seal(new AuditRecordRow(node, seq, atMillis, client, secret, line, null));
    }

    private void insert(List<AuditRecordRow> rows) {
        store.write(w -> {
            w.copyAuditRecords(rows);
            return null;
        });
        copied.addAndGet(rows.size());
    }

    /**
     * Copies the records of this node's log after the last seq up to which the store holds all of
     * them (its first gap, so a catch-up cut short, a drop or a failed batch leave nothing behind
     * for good). The log is read newest page first (that is how it is indexed, and it keeps memory
     * to one page); a row already there stays as it is.
     */
    void catchUpFromFile() throws IOException {
        long after = store.read(r -> r.contiguousAuditSeq(node));
        if (after > 0) {
            // The next look (the next start, or after a dropped copy) walks on from here.
            store.write(w -> {
                w.keepAuditCopyMark(node, after);
                return null;
            });
        }
        Long before = null;
        long total = 0;
        while (!closed) {
            // Only what the copy keeps: a first start on a long log copies its last `retention`, not all of it.
            Instant since = Instant.ofEpochMilli(clock.millis() - settings.retention().toMillis());
            AuditQuery.Page page = AuditQuery.rawPage(logFile, new AuditQuery.Range(since, null, after, before), BACKFILL_PAGE);
            List<AuditRecordRow> rows = new ArrayList<>();
            for (Map<String, Object> fields : page.records()) {
                rows.add(row(fields));
            }
            if (!rows.isEmpty()) {
                insert(rows);
                total += rows.size();
            }
            if (page.next() == null) {
                break;
            }
            before = page.next();
        }
        if (total > 0) {
            log.info("audit copy: caught up {} record(s) of node {} from {}", total, node, logFile);
        }
    }

    private AuditRecordRow row(Map<String, Object> fields) {
        Map<String, Object> covered = new LinkedHashMap<>(fields);
        Object mac = covered.remove(ChainCodec.MAC);
        ByteArrayOutputStream line = new ByteArrayOutputStream(512);
        ChainCodec.writeLine(line, covered, ChainCodec.MAC, mac instanceof String m ? m : null);
        String text = line.toString(StandardCharsets.UTF_8).stripTrailing();
        long seq = (Long) fields.get("seq");
        long at = fields.get("time") instanceof String t ? Instant.parse(t).toEpochMilli() : 0;
        return row(seq, at, (String) fields.get("client"), (String) fields.get("secret"), text);
    }

    private void pruneIfDue() {
        long now = clock.millis();
        if (now - lastPrune < Duration.ofHours(1).toMillis()) {
            return;
        }
        lastPrune = now;
        int removed = store.write(w -> w.pruneAuditRecords(now - settings.retention().toMillis()));
        if (removed > 0) {
            log.info("audit copy: pruned {} copied record(s) older than {}", removed, settings.retention());
        }
    }

    /** Copies what is queued (for up to {@code within}), then stops. */
    public void close(Duration within) {
        closed = true;
        if (worker != null) {
            worker.interrupt();
            try {
                worker.join(within.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<FileAuditSink.WrittenRecord> rest = new ArrayList<>();
        queue.drainTo(rest);
        if (!rest.isEmpty()) {
            try {
                insert(rows(rest));
            } catch (RuntimeException e) {
                log.warn("audit copy: {} record(s) not copied at stop ({}); the next start copies them from the log",
                        rest.size(), e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
