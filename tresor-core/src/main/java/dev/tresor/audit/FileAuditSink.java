package dev.tresor.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.PooledHmac;
import dev.tresor.crypto.TinkRuntime;
import dev.tresor.model.InstantText;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log as a JSON Lines file forming a keyed hash chain (format described in
 * {@link ChainCodec}): a header holding the chain key wrapped by the KEK, then one record per
 * line, each carrying the MAC of its predecessor and its own MAC.
 *
 * <p><b>Group commit by the appenders themselves.</b> An appender puts its record on a queue and
 * then tries the write lock. Whoever holds it takes everything queued, chains and encodes it, and
 * hands the whole batch to the OS in one write; the others return once the write holding their
 * record has completed. Nobody hands a record to another thread and waits to be woken when the
 * lock was free, so an uncontended request writes its own record without a context switch (a
 * dedicated writer thread cost ~25 % of a secret read's CPU in hand-overs, see bench/results).
 * Whoever releases the lock looks at the queue again, so no record is left behind; after
 * {@value #ROUNDS_PER_APPENDER} batches an appender hands what is still queued to a fresh virtual
 * thread, so one request does not write for everyone else for long.
 *
 * <p>Writes go through a {@link FileOutputStream} in append mode: unlike a {@link FileChannel} it
 * is not closed when the writing thread is interrupted, and any request thread may be the writer.
 * A write to a regular file holds its carrier for the system call; should the disk hang inside
 * one, that appender waits with it, and every other waits at most the write timeout
 * ({@link AuditLog}) and gets a 503 on the carriers left, of which the launcher keeps at least two
 * ({@code CarrierThreads}).
 *
 * <p>A second (platform) thread fsyncs at most once per {@code fsyncInterval} (every write is
 * still on its way to disk in the page cache and survives a killed process; the interval bounds
 * what a power cut can take), then rewrites the {@link Anchor}. With {@code Duration.ZERO} an
 * append also waits for the fsync covering it.
 *
 * <p><b>Fail closed.</b> After a failed write or fsync the chain's on-disk state is unknown, so the
 * sink refuses every further record instead of guessing; the operator restarts the server, which
 * verifies and, if only a torn last line is wrong, repairs the file with a recorded repair.
 */
public final class FileAuditSink implements AuditSink {

    public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofMillis(50);

    /** Owner read-write, group read: a log shipper may read; audit records hold no secret values. */
    static final Set<PosixFilePermission> FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-r-----");

    static final String ACTION_OPEN = "audit.open";
    static final String ACTION_REPAIR = "audit.repair";
    static final String ACTION_CLOSE = "audit.close";
    static final String ACTION_CHECKPOINT = "audit.checkpoint";
    static final String ACTION_ROLLBACK_ACCEPTED = "audit.rollback.accepted";

    private static final Logger log = LoggerFactory.getLogger(FileAuditSink.class);
    /** Bounds the memory held by appenders waiting on a slow disk; put() blocks beyond it. */
    private static final int QUEUE_CAPACITY = 16_384;
    private static final int MAX_BATCH_RECORDS = 4_096;
    /** Batches one appender writes before it hands the rest of the queue to a thread of its own. */
    static final int ROUNDS_PER_APPENDER = 2;

    private final Path file;
    /** The server node whose log this is, written into every record; null for none. */
    private final String node;
    /** Told of every record once it is written (write(2) done); null for none. */
    private volatile WrittenRecords copies;
    private final Duration fsyncInterval;
    private final Clock clock;
    private final FileChannel lockChannel;
    private final FileLock lock;
    /** The segment being written; replaced by a cut, under the write lock and {@link #segmentLock}. */
    private FileChannel channel;
    private FileOutputStream appender;
    /** Held by the fsync thread around an fsync and anchor update, and by a cut around its renames. */
    private final ReentrantLock segmentLock = new ReentrantLock();
    private final SegmentPolicy segments;
    private final String wrappedKey;
    private final String kekId;
    /** The seq the segment being written starts after (its header's seq). */
    private volatile long segmentBase;
    private Instant segmentCreated;
    /** After a failed cut, the next attempt waits until then (System.nanoTime()). */
    private long cutRetryAt;
    private final Mac chainKey;
    private final BlockingQueue<Pending> queue;
    private final AtomicBoolean closeRequested = new AtomicBoolean();
    private final Thread syncer;
    private final String shortName;
    private final int roundsPerAppender;
    private final long bytesVerifiedAtOpen;
    private volatile IOException failure;
    private volatile Instant lastFsync;

    // Everything below up to `progress` belongs to whoever holds writeLock.
    private final ReentrantLock writeLock = new ReentrantLock();
    /** The chain's tip. */
    private long lastSeq;
    private String lastMac;
    /** The file's length: where the next batch's first line starts. */
    private long writtenBytes;
    /** Set with the close record: every record after it is refused. */
    private boolean finished;
    private final List<Pending> batch = new ArrayList<>();
    private final List<Pending> encoded = new ArrayList<>();
    private final BatchBuffer buffer = new BatchBuffer();
    /**
     * The JSON generator over the batch buffer, kept across batches (building one per batch cost
     * more than encoding the records); flushed after every record, replaced after a record that
     * failed half-way.
     */
    private JsonGenerator lines;
    private final InstantText times = new InstantText();

    // Progress shared by the writer, the syncer and appenders waiting for an fsync.
    private final ReentrantLock progress = new ReentrantLock();
    private final Condition written = progress.newCondition();
    private final Condition synced = progress.newCondition();
    private final Condition stopRequested = progress.newCondition();
    private long writtenSeq;
    private String writtenMac;
    private long syncedSeq;
    private boolean syncerIdle;
    private boolean stopSyncing;

    /** Opens or creates {@code file} with the default fsync interval of 50 ms. */
    public FileAuditSink(Path file, KeyProvider keyProvider) throws IOException {
        this(file, keyProvider, DEFAULT_FSYNC_INTERVAL, Clock.systemUTC());
    }

    public FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval) throws IOException {
        this(file, keyProvider, fsyncInterval, Clock.systemUTC());
    }

    /**
     * Opens {@code file}, creating it if absent. An existing file is verified from its header;
     * a torn last line is replaced by a record of the repair (written before anything is cut, so
     * a crash during the repair cannot lose it); any other problem refuses the open with an
     * {@link AuditChainException}.
     *
     * @param fsyncInterval how long records may wait in the page cache before an fsync;
     *                      {@code Duration.ZERO} fsyncs before every append returns
     * @param clock         stamps the header, the anchor and the log's own open/repair/close records
     * @throws IOException if the file cannot be opened, locked, verified or written
     */
    public FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock) throws IOException {
        this(file, keyProvider, fsyncInterval, clock, AuditStart.unanchored());
    }

    /**
     * As above, checked against the store's view of the log ({@code start}): with a checkpoint only
     * the header and the tail from the checkpoint are read, so opening takes the same time whatever
     * the log's size. Refused with an {@link AuditChainException} naming the cause, unless
     * {@code start} carries an operator's reason (then recorded as {@value #ACTION_ROLLBACK_ACCEPTED}):
     * the log ends before the checkpoint or is not the log it names (cut, put back from an older copy,
     * replaced), the log is missing while the store holds data, the log holds checkpoints the store
     * has no row for, or the store's epochs are behind those the log recorded (the store was put
     * back from an older copy).
     */
    public FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock, AuditStart start)
            throws IOException {
        this(file, keyProvider, fsyncInterval, clock, QUEUE_CAPACITY, ROUNDS_PER_APPENDER, start, SegmentPolicy.NONE, null);
    }

    /** As above, cutting the log into segments by {@code segments} ({@link AuditSegments}). */
    public FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock, AuditStart start,
                         SegmentPolicy segments) throws IOException {
        this(file, keyProvider, fsyncInterval, clock, QUEUE_CAPACITY, ROUNDS_PER_APPENDER, start, segments, null);
    }

    /**
     * As above, the log of server node {@code node}: every record it writes carries the node id
     * (under the chain MAC), so records copied elsewhere or merged across nodes still say whose chain
     * they belong to. Null writes records without one.
     */
    public FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock, AuditStart start,
                         SegmentPolicy segments, String node) throws IOException {
        this(file, keyProvider, fsyncInterval, clock, QUEUE_CAPACITY, ROUNDS_PER_APPENDER, start, segments, node);
    }

    FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock, int queueCapacity,
                  int roundsPerAppender) throws IOException {
        this(file, keyProvider, fsyncInterval, clock, queueCapacity, roundsPerAppender, AuditStart.unanchored(),
                SegmentPolicy.NONE, null);
    }

    /**
     * As above with a given queue bound and rounds per appender: tests make the queue tiny to drive
     * appenders into the full-queue paths, and the rounds zero to send every batch to a hand-over thread.
     */
    FileAuditSink(Path file, KeyProvider keyProvider, Duration fsyncInterval, Clock clock, int queueCapacity,
                  int roundsPerAppender, AuditStart start, SegmentPolicy segments, String node) throws IOException {
        Objects.requireNonNull(keyProvider, "keyProvider");
        this.node = node;
        Objects.requireNonNull(start, "start");
        this.segments = Objects.requireNonNull(segments, "segments");
        this.roundsPerAppender = roundsPerAppender;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.file = Objects.requireNonNull(file, "file").toAbsolutePath().normalize();
        this.fsyncInterval = Objects.requireNonNull(fsyncInterval, "fsyncInterval");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (fsyncInterval.isNegative()) {
            throw new IllegalArgumentException("fsyncInterval must not be negative: " + fsyncInterval);
        }
        TinkRuntime.ensureRegistered();

        this.lockChannel = openLockChannel(this.file);
        this.lock = acquireLock(this.file, lockChannel);
        Opened opened;
        try {
            opened = openChain(keyProvider, start);
        } catch (IOException | RuntimeException e) {
            releaseLock();
            throw e;
        }
        this.channel = opened.channel();
        try {
            this.appender = new FileOutputStream(this.file.toFile(), true);
        } catch (IOException e) {
            channel.close();
            releaseLock();
            throw new IOException("cannot open audit log " + file + " for appending: " + describe(e), e);
        }
        this.chainKey = opened.chainKey();
        this.wrappedKey = opened.wrappedKey();
        this.kekId = opened.kekId();
        this.segmentBase = opened.base();
        this.segmentCreated = opened.created();
        this.lastSeq = opened.lastSeq();
        this.lastMac = opened.lastMac();
        this.writtenBytes = opened.end();
        this.bytesVerifiedAtOpen = opened.bytesVerified();
        this.writtenSeq = lastSeq;
        this.writtenMac = lastMac;
        this.syncedSeq = lastSeq;
        this.lastFsync = opened.syncedAt();

        this.shortName = this.file.getFileName().toString();
        this.syncer = Thread.ofPlatform().name("tresor-audit-fsync[" + shortName + "]").daemon(true)
                .unstarted(this::runSyncer);
        syncer.start();

        try {
            for (AuditEvent note : opened.notes()) {
                append(note);
            }
        } catch (IOException e) {
            closeQuietly();
            throw e;
        }
    }

    @Override
    public void append(AuditEvent event) throws IOException {
        Objects.requireNonNull(event, "event");
        if (closeRequested.get()) {
            throw closedError();
        }
        IOException failed = failure;
        if (failed != null) {
            throw unusable(failed);
        }
        Pending pending = new Pending(event, false);
        enqueue(pending);
        long seq = awaitWritten(pending);
        if (fsyncInterval.isZero()) {
            awaitSynced(seq);
        }
    }

    /**
     * Queues the record and writes the queue if no one else is writing it; the future completes
     * when the batch holding the record has been written (at once when this call wrote it). With
     * fsync on every record, or with the queue full, it falls back to a blocking {@link #append} on
     * one of {@code blockingWriters}' threads.
     */
    @Override
    public CompletableFuture<?> appendAsync(AuditEvent event, java.util.concurrent.Executor blockingWriters) {
        Objects.requireNonNull(event, "event");
        if (fsyncInterval.isZero()) {
            return AuditSink.super.appendAsync(event, blockingWriters);
        }
        if (closeRequested.get()) {
            return CompletableFuture.failedFuture(closedError());
        }
        IOException failed = failure;
        if (failed != null) {
            return CompletableFuture.failedFuture(unusable(failed));
        }
        Pending pending = new Pending(event, false);
        if (!queue.offer(pending)) {
            return AuditSink.super.appendAsync(event, blockingWriters);
        }
        writeQueued(roundsPerAppender);
        return pending.written;
    }

    @Override
    public String name() {
        return "file:" + file;
    }

    /** The log file. */
    public Path file() {
        return file;
    }

    /** Bytes of the existing file read and checked when it was opened (0 for a new log). */
    public long bytesVerifiedAtOpen() {
        return bytesVerifiedAtOpen;
    }

    /** Seq of the newest record written (handed to the OS), 0 for only the header. */
    public long writtenSeq() {
        progress.lock();
        try {
            return writtenSeq;
        } finally {
            progress.unlock();
        }
    }

    /**
     * Appends a checkpoint record carrying the store's {@code epochs}, waits until it is on disk,
     * and returns it sealed for the store ({@link Checkpoint}): the caller saves it, and the next
     * open reads only from there on, and refuses a log that no longer holds that record where it was.
     *
     * @throws IOException if the record could not be written and synced
     */
    public Checkpoint.Sealed checkpoint(WriteEpochs epochs) throws IOException {
        Objects.requireNonNull(epochs, "epochs");
        if (closeRequested.get()) {
            throw closedError();
        }
        Pending pending = new Pending(systemEvent(ACTION_CHECKPOINT, "ok", epochs.detail()), false);
        enqueue(pending);
        long seq = awaitWritten(pending);
        awaitSynced(seq);
        String sealed = new Checkpoint(shortName, seq, pending.mac, pending.offset, epochs, pending.event.time()).seal(chainKey);
        return new Checkpoint.Sealed(shortName, seq, sealed);
    }

    /** When the last fsync completed (the log's creation or opening counts as one). */
    public Instant lastFsync() {
        return lastFsync;
    }

    /** False once a write or fsync failed or {@link #close()} was called: every append will fail. */
    public boolean healthy() {
        return failure == null && !closeRequested.get();
    }

    /**
     * Writes the close record, fsyncs it, updates the anchor and releases the lock. Appends racing
     * with close either land before the close record or fail; none land after it.
     *
     * @throws IOException if the close record could not be written and synced
     */
    @Override
    public void close() throws IOException {
        if (!closeRequested.compareAndSet(false, true)) {
            return;
        }
        IOException problem = null;
        Pending closing = null;
        try {
            closing = new Pending(systemEvent(ACTION_CLOSE, "ok", "log closed by its writer"), true);
            enqueue(closing);
        } catch (IOException | RuntimeException e) {
            closing = null;
            problem = e instanceof IOException io ? io : new IOException("cannot queue the close record: " + e, e);
        }
        if (closing == null) {
            // No close record (an interrupted caller, a failing clock): refuse what is queued and
            // whatever comes, as the close record would have.
            writeLock.lock();
            try {
                finished = true;
            } finally {
                writeLock.unlock();
            }
            writeQueued(Integer.MAX_VALUE);
        } else {
            try {
                awaitWritten(closing);
            } catch (IOException e) {
                problem = e;
            }
        }
        progress.lock();
        try {
            stopSyncing = true;
            stopRequested.signalAll();
            written.signalAll();
        } finally {
            progress.unlock();
        }
        joinUninterruptibly(syncer);
        if (problem == null && failure != null) {
            problem = unusable(failure);
        }
        // Nothing writes after the close record (or after `finished`), so the file can be closed.
        try (FileChannel c = channel; FileOutputStream a = appender) {
            // closed by try-with-resources, each even if the other fails
        } catch (IOException e) {
            problem = problem != null ? problem : e;
        }
        releaseLock();
        if (problem != null) {
            throw new IOException("audit log " + file + " was not closed cleanly: " + problem.getMessage(), problem);
        }
    }

    // ---------------------------------------------------------------- opening

    private record Opened(FileChannel channel, Mac chainKey, long lastSeq, String lastMac, List<AuditEvent> notes,
            Instant syncedAt, long end, long bytesVerified, long base, String wrappedKey, String kekId, Instant created) {

        Opened withNotes(List<AuditEvent> more) {
            List<AuditEvent> all = new ArrayList<>(more);
            all.addAll(notes);
            return new Opened(channel, chainKey, lastSeq, lastMac, List.copyOf(all), syncedAt, end, bytesVerified, base,
                    wrappedKey, kekId, created);
        }
    }

    private static FileChannel openLockChannel(Path file) throws IOException {
        Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
        try {
            Files.createDirectories(file.getParent());
            return FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(FILE_PERMISSIONS));
        } catch (IOException e) {
            throw new IOException("cannot open audit log " + file + ": " + describe(e), e);
        }
    }

    /** One writer per log, across processes: two interleaved chains would each look tampered with. */
    private static FileLock acquireLock(Path file, FileChannel lockChannel) throws IOException {
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            lockChannel.close();
            throw new IOException("cannot lock audit log " + file + ": " + describe(e), e);
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("audit log " + file + " is in use by another writer (the lock on "
                    + file.getFileName() + ".lock is held); only one server process may write a log");
        }
        return lock;
    }

    private Opened openChain(KeyProvider keyProvider, AuditStart start) throws IOException {
        settleInterruptedCut();
        Path anchor = Anchor.fileFor(file);
        boolean exists = Files.exists(file);
        if (exists && !Files.isRegularFile(file)) {
            // A device such as /dev/null would accept every record and keep none.
            throw new IOException("audit log " + file + " is not a regular file");
        }
        long size = exists ? Files.size(file) : 0;
        if (size == 0) {
            if (Files.exists(anchor)) {
                throw new AuditChainException("audit log " + file + " is " + (exists ? "empty" : "missing")
                        + " but its anchor " + anchor.getFileName() + " exists — the log was deleted or emptied."
                        + " Keep the anchor as evidence; move it aside only to start a new log deliberately");
            }
            if (start.checkpoint().isPresent()) {
                List<AuditEvent> accepted = acceptOrRefuse(start, List.of("the store holds a checkpoint of this log, but the"
                        + " log is " + (exists ? "empty" : "missing") + " — it was deleted, its anchor too"),
                        "restore the log and its anchor from a backup");
                return startNewChain(openForWriting(), keyProvider, null).withNotes(accepted);
            }
            Opened fresh = startNewChain(openForWriting(), keyProvider, null);
            if (start.anchored() && start.storeHoldsData()) {
                // A first start after `tresor init` or an upgrade; or a log deleted together with its
                // checkpoint row. Which one cannot be told here, so the new chain says it plainly.
                String detail = "new chain on a store that already holds data (" + start.storeEpochs()
                        + ") and has no checkpoint of this log: expected at the first start after `tresor init` or an"
                        + " upgrade; otherwise the log was deleted together with its checkpoint";
                log.warn("audit log {}: {}", file, detail);
                return fresh.withNotes(List.of(systemEvent(ACTION_OPEN, "ok", detail)));
            }
            return fresh;
        }

        List<String> rollbacks = new ArrayList<>();
        ChainScan.Result scan;
        if (start.checkpoint().isPresent()) {
            scan = ChainScan.scanFrom(file, keyProvider, start.checkpoint().get());
            ChainScan.Problem problem = scan.firstProblem();
            if (problem != null && problem.rollback()) {
                rollbacks.add(problem.message());
                if (start.acceptRollback() == null) {
                    acceptOrRefuse(start, rollbacks, "restore the newest copy of the log and its anchor");
                }
                // Accepted: the log must still be a sound chain to be continued, so check all of it.
                scan = ChainScan.scan(file, keyProvider);
            }
        } else {
            scan = ChainScan.scan(file, keyProvider);
            if (start.anchored() && scan.checkpoints() > 0 && scan.firstProblem() == null) {
                rollbacks.add("the log holds " + scan.checkpoints() + " checkpoint records but the store has no"
                        + " checkpoint of it — the store's checkpoint row was deleted, or this is another (older) store");
            }
        }
        if (start.anchored() && scan.firstProblem() == null && scan.recordedEpochs().aheadOf(start.storeEpochs())) {
            rollbacks.add("the audit log recorded the store at " + scan.recordedEpochs() + ", but the store is at "
                    + start.storeEpochs() + " — the database was put back from an older copy and lost the writes since");
        }
        List<AuditEvent> accepted = rollbacks.isEmpty() ? List.of()
                : acceptOrRefuse(start, rollbacks, "restore the newest database backup (and the log that goes with it)");
        return continueChain(scan, keyProvider).withNotes(accepted);
    }

    /**
     * A cut writes the next segment as {@code .next}, then renames the segment being written to its
     * closed name and {@code .next} into place. Both present: the crash came before the first
     * rename, so {@code .next} is discarded; only {@code .next}: between the renames, so it is put in place.
     */
    private void settleInterruptedCut() throws IOException {
        Path next = AuditSegments.nextFile(file);
        if (!Files.exists(next)) {
            return;
        }
        if (Files.exists(file)) {
            log.warn("audit log {}: discarding {} left by a segment cut that did not complete", file, next.getFileName());
            Files.delete(next);
        } else {
            log.warn("audit log {}: completing a segment cut that was interrupted ({} → {})", file, next.getFileName(),
                    file.getFileName());
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        syncDirectory(file.getParent());
    }

    /**
     * Refuses to open after a detected cut or rollback, or, with the operator's reason, returns
     * the record that says it was accepted.
     */
    private List<AuditEvent> acceptOrRefuse(AuditStart start, List<String> causes, String recovery)
            throws AuditChainException {
        String cause = String.join("; ", causes);
        if (start.acceptRollback() == null) {
            throw new AuditChainException("audit log " + file + " and the store disagree: " + cause + ". Refusing to start;"
                    + " " + recovery + ", or, if this is known and intended, start once with --accept-rollback REASON"
                    + " (the reason is recorded in the audit log)");
        }
        log.warn("audit log {}: accepting, because the operator said \"{}\": {}", file, start.acceptRollback(), cause);
        return List.of(systemEvent(ACTION_ROLLBACK_ACCEPTED, "accepted",
                "reason: " + start.acceptRollback() + "; detected: " + cause));
    }

    private Opened continueChain(ChainScan.Result scan, KeyProvider keyProvider) throws IOException {
        ChainScan.Problem lineProblem = scan.lineProblem();
        if (lineProblem != null && !lineProblem.tornTail()) {
            throw refusal(lineProblem);
        }
        if (scan.anchorProblem() != null) {
            throw refusal(scan.anchorProblem());
        }
        if (lineProblem != null && scan.goodBytes() == 0 && scan.anchor().isPresent()) {
            throw refusal(lineProblem);
        }

        FileChannel ch = openForWriting();
        try {
            long lastSeq = scan.lastSeq();
            String lastMac = scan.lastMac();
            long end = scan.goodBytes();
            if (lineProblem != null) {
                // A crash in the middle of a write leaves an incomplete last line: nothing anyone
                // was told had been audited (that line's write never completed). Replace it by a
                // record of the repair, so the repair itself is evidence.
                long dropped = ch.size() - scan.goodBytes();
                AuditEvent repair = systemEvent(ACTION_REPAIR, "repaired", "dropped " + dropped
                        + " bytes of an incomplete last line (line " + lineProblem.line() + ") left by an interrupted write; "
                        + (scan.lastSeq() > 0 ? "seq " + scan.lastSeq() + " was the last intact record" : "the header was incomplete"));
                log.warn("audit log {}: dropping {} bytes of a torn last line ({})", file, dropped, lineProblem.message());
                if (scan.goodBytes() == 0) {
                    Opened fresh = startNewChain(ch, keyProvider, repair);
                    return new Opened(fresh.channel(), fresh.chainKey(), fresh.lastSeq(), fresh.lastMac(), fresh.notes(),
                            fresh.syncedAt(), fresh.end(), scan.bytesRead(), fresh.base(), fresh.wrappedKey(),
                            fresh.kekId(), fresh.created());
                }
                Map<String, Object> fields = ChainCodec.eventFields(lastSeq + 1, lastMac, repair, node);
                String mac = ChainCodec.computeMac(scan.chainKey(), ChainCodec.LINE_DOMAIN, fields);
                BatchBuffer buffer = new BatchBuffer();
                ChainCodec.writeLine(buffer, fields, ChainCodec.MAC, mac);
                replaceTail(ch, scan.goodBytes(), buffer);
                end += buffer.size();
                lastSeq++;
                lastMac = mac;
            }
            List<AuditEvent> notes = List.of(systemEvent(ACTION_OPEN, "ok", ACTION_CLOSE.equals(scan.lastAction())
                    ? "log reopened after a clean close"
                    : "log reopened; the previous writer stopped without closing the log"));
            ch.position(end);
            // Whatever an earlier process left in the page cache becomes durable before we build on it.
            ch.force(false);
            return new Opened(ch, scan.chainKey(), lastSeq, lastMac, notes, clock.instant(), end, scan.bytesRead(),
                    scan.base(), scan.wrappedKey(), scan.kekId(), scan.created());
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Writes {@code records} at {@code offset}, over whatever torn bytes are there, cuts what is
     * left of them after the records, and syncs. The records are written before anything is cut,
     * so a crash at any point leaves either the records or a torn tail that the next open repairs
     * again: the file is never shortened without the record saying so.
     */
    private static void replaceTail(FileChannel ch, long offset, BatchBuffer records) throws IOException {
        ch.position(offset);
        records.writeFully(ch);
        ch.truncate(offset + records.size());
        ch.force(true);
    }

    private FileChannel openForWriting() throws IOException {
        try {
            return FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(FILE_PERMISSIONS));
        } catch (IOException e) {
            throw new IOException("cannot open audit log " + file + " for writing: " + describe(e), e);
        }
    }

    /**
     * Writes a new header (and, after a torn header, the record of that repair) over the start
     * of {@code ch}. {@code repair} may be null.
     */
    private Opened startNewChain(FileChannel ch, KeyProvider keyProvider, AuditEvent repair) throws IOException {
        try {
            KeysetHandle handle = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG);
            // The chain key exists on disk only wrapped by the KEK, so the file is verifiable
            // with the KEK alone and nobody without it can forge or re-chain records.
            byte[] wrapped = TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, keyProvider.kek(), ChainCodec.KEY_CONTEXT);
            Mac key = PooledHmac.of(handle);
            Instant now = clock.instant();
            Map<String, Object> header = ChainCodec.headerFields(keyProvider.keyId(), wrapped, now);
            String mac = ChainCodec.computeMac(key, ChainCodec.LINE_DOMAIN, header);
            BatchBuffer buffer = new BatchBuffer();
            ChainCodec.writeLine(buffer, header, ChainCodec.MAC, mac);
            long seq = 0;
            if (repair != null) {
                Map<String, Object> fields = ChainCodec.eventFields(1, mac, repair, node);
                mac = ChainCodec.computeMac(key, ChainCodec.LINE_DOMAIN, fields);
                ChainCodec.writeLine(buffer, fields, ChainCodec.MAC, mac);
                seq = 1;
            }
            // Same order as a repair of a torn last line: write first, then cut, then sync.
            replaceTail(ch, 0, buffer);
            ch.position(buffer.size());
            syncDirectory(file.getParent());
            Anchor.write(file, key, seq, mac, now);
            return new Opened(ch, key, seq, mac, List.of(), now, buffer.size(), 0, 0,
                    java.util.Base64.getEncoder().encodeToString(wrapped), keyProvider.keyId(), now);
        } catch (GeneralSecurityException e) {
            ch.close();
            throw new IOException("cannot create the chain key of audit log " + file + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw new IOException("cannot start audit log " + file + ": " + describe(e), e);
        }
    }

    private AuditChainException refusal(ChainScan.Problem problem) {
        return new AuditChainException("audit log " + file + " fails verification: " + problem.message()
                + ". Refusing to continue it; run `tresor audit verify " + file + "` and decide"
                + " (keep the file as evidence and start a new log beside it)");
    }

    // ---------------------------------------------------------------- writing

    /** A queued record; {@code closing} marks the log's last record. */
    private static final class Pending {
        final AuditEvent event;
        final boolean closing;
        final CompletableFuture<Long> written = new CompletableFuture<>();
        long seq;
        /** Byte offset of the record's line in the file, and its MAC (for a checkpoint). */
        long offset;
        String mac;

        Pending(AuditEvent event, boolean closing) {
            this.event = event;
            this.closing = closing;
        }
    }

    /**
     * A byte buffer that can drop a half-encoded record and hand its content to a file. Not a
     * ByteArrayOutputStream: that one locks on every write, and only the write lock's holder uses this.
     */
    private static final class BatchBuffer extends java.io.OutputStream {
        private byte[] buf = new byte[64 * 1024];
        private int count;

        @Override
        public void write(int b) {
            ensure(1);
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            ensure(len);
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        private void ensure(int more) {
            if (count + more > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, count + more));
            }
        }

        int size() {
            return count;
        }

        void reset() {
            count = 0;
        }

        void truncate(int length) {
            count = length;
        }

        void writeFully(FileChannel channel) throws IOException {
            ByteBuffer bytes = ByteBuffer.wrap(buf, 0, count);
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }

        void writeTo(FileOutputStream out) throws IOException {
            out.write(buf, 0, count);
        }

        String text(int from, int to) {
            return new String(buf, from, to - from, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private void enqueue(Pending pending) throws IOException {
        try {
            queue.put(pending);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while queueing an audit record for " + file);
        }
        writeQueued(roundsPerAppender);
    }

    private long awaitWritten(Pending pending) throws IOException {
        try {
            return pending.written.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new IOException(cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for an audit record to be written to " + file);
        }
    }

    private void awaitSynced(long seq) throws IOException {
        progress.lock();
        try {
            while (syncedSeq < seq) {
                if (failure != null) {
                    throw unusable(failure);
                }
                synced.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for an fsync of " + file);
        } finally {
            progress.unlock();
        }
    }

    /**
     * Writes what is queued unless someone else holds the write lock (then they will: whoever
     * releases the lock looks at the queue again, so a record queued while it was held is never
     * left behind). After {@code rounds} batches, what is still queued goes to a fresh virtual
     * thread that writes until the queue is empty.
     */
    private void writeQueued(int rounds) {
        if (writeLock.isHeldByCurrentThread()) {
            return; // called back from a completion while writing: the loop below goes on anyway
        }
        int done = 0;
        while (!queue.isEmpty() && writeLock.tryLock()) {
            Pending[] completed = NONE;
            try {
                if (done == rounds) {
                    break;
                }
                batch.clear();
                queue.drainTo(batch, MAX_BATCH_RECORDS);
                if (!batch.isEmpty()) {
                    completed = writeBatch();
                    if (completed.length > 0) {
                        cutIfDue();
                    }
                }
                done++;
            } catch (RuntimeException | Error e) {
                IOException cause = fail(new IOException("writing audit log " + file + " failed: " + e, e));
                batch.forEach(p -> p.written.completeExceptionally(unusable(cause)));
                if (e instanceof Error error) {
                    throw error;
                }
            } finally {
                writeLock.unlock();
            }
            // Outside the lock: completing wakes the waiting appenders, which need not hold up the next batch.
            for (Pending p : completed) {
                p.written.complete(p.seq);
            }
        }
        if (done == rounds && !queue.isEmpty()) {
            // Started only now the lock is free: it must be able to take it, or whoever has taken
            // it meanwhile writes the queue.
            handOver();
        }
    }

    private void handOver() {
        try {
            Thread.ofVirtual().name("tresor-audit-writer[" + shortName + "]").start(() -> writeQueued(Integer.MAX_VALUE));
        } catch (RuntimeException | OutOfMemoryError e) {
            // Whoever appends next writes the queue; until then its appenders' waits run out (503).
            log.warn("audit log {}: cannot start a thread to write queued records: {}", file, e.toString());
        }
    }

    private static final Pending[] NONE = new Pending[0];

    /** One record as this log wrote it: the line (without newline, MAC included) and what it is about. */
    public record WrittenRecord(String node, long seq, Instant time, String client, String secret, String line) {}

    /** Takes written records without blocking (it is called under the log's write lock). */
    @FunctionalInterface
    public interface WrittenRecords {
        void written(WrittenRecord record);
    }

    /**
     * From now on, every record written is also handed to {@code copies} (after its write(2)), in
     * chain order; records written before this call are not (a copier back-fills them from the file).
     */
    public void copyWrittenTo(WrittenRecords copies) {
        this.copies = copies;
    }

    /** The node id this log writes into its records, or null. */
    public String node() {
        return node;
    }

    /**
     * Chains, encodes and writes {@link #batch}; the caller holds the write lock. Returns the
     * records now written, for the caller to complete; all others it has completed exceptionally.
     */
    private Pending[] writeBatch() {
        buffer.reset();
        encoded.clear();
        if (lines == null) {
            lines = newGenerator(buffer);
        }
        long seq = lastSeq;
        String prev = lastMac;
        IOException failed = failure;
        for (Pending p : batch) {
            if (finished) {
                p.written.completeExceptionally(closedError());
                continue;
            }
            if (p.closing) {
                finished = true;
            }
            if (failed != null) {
                p.written.completeExceptionally(unusable(failed));
                continue;
            }
            int mark = buffer.size();
            try {
                ChainCodec.EventLine line = ChainCodec.EventLine.of(seq + 1, prev, p.event, times.format(p.event.time()), node);
                String mac = line.mac(chainKey);
                line.write(lines, mac);
                lines.flush(); // into the buffer: a record that fails below must not leave half a line
                seq++;
                prev = mac;
                p.seq = seq;
                p.offset = writtenBytes + mark;
                p.mac = mac;
                encoded.add(p);
            } catch (RuntimeException | IOException e) {
                // One record that cannot be encoded must not take the chain down with it.
                lines = discardGenerator(lines, buffer);
                buffer.truncate(mark);
                p.written.completeExceptionally(new IOException("cannot encode an audit record: " + e.getMessage(), e));
            }
        }
        if (encoded.isEmpty()) {
            return NONE;
        }
        try {
            buffer.writeTo(appender);
        } catch (IOException e) {
            // Part of the batch may be on disk: the tip is unknown, so stop for good (fail closed).
            IOException cause = fail(new IOException("write to audit log " + file + " failed: " + describe(e), e));
            encoded.forEach(p -> p.written.completeExceptionally(unusable(cause)));
            return NONE;
        }
        WrittenRecords copy = copies;
        if (copy != null) {
            // Under the write lock, so in chain order; each line without its newline.
            for (int i = 0; i < encoded.size(); i++) {
                Pending p = encoded.get(i);
                int from = (int) (p.offset - writtenBytes);
                int to = i + 1 < encoded.size() ? (int) (encoded.get(i + 1).offset - writtenBytes) : buffer.size();
                try {
                    copy.written(new WrittenRecord(node, p.seq, p.event.time(), p.event.client(), p.event.secret(),
                            buffer.text(from, to - 1)));
                } catch (RuntimeException e) {
                    log.warn("audit log {}: the copy of record {} was not taken: {}", file, p.seq, e.toString());
                }
            }
        }
        lastSeq = seq;
        lastMac = prev;
        writtenBytes += buffer.size();
        progress.lock();
        try {
            writtenSeq = seq;
            writtenMac = prev;
            if (syncerIdle) {
                written.signal();
            }
        } finally {
            progress.unlock();
        }
        return encoded.toArray(NONE);
    }

    /** Cuts a new segment if the one being written is full or old enough; the caller holds the write lock. */
    private void cutIfDue() {
        if (finished || failure != null || lastSeq == segmentBase) {
            return;
        }
        boolean full = writtenBytes >= segments.maxBytes();
        boolean old = segments.maxAge() != null && !clock.instant().isBefore(segmentCreated.plus(segments.maxAge()));
        if (!(full || old) || System.nanoTime() - cutRetryAt < 0) {
            return;
        }
        try {
            cut();
        } catch (IOException e) {
            if (failure != null) {
                return; // failed half-way: fail() has said so, and every further record is refused
            }
            cutRetryAt = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
            log.warn("audit log {}: cannot cut a new segment, writing on in this one and trying again in a minute: {}",
                    file, describe(e));
        }
    }

    /**
     * Closes the segment being written as {@code audit-<first-seq>.log} and starts a new one whose
     * header continues the chain from its last record. The new segment is complete and synced under
     * a temporary name before anything is renamed (an IOException up to there changes nothing); a
     * failure during the renames leaves a state only a restart settles, so the sink then fails closed.
     */
    private void cut() throws IOException {
        Path next = AuditSegments.nextFile(file);
        long first = segmentBase + 1;
        Path closed = AuditSegments.closedName(file, first);
        if (Files.exists(closed)) {
            throw new IOException(closed.getFileName() + " exists already; move it away");
        }
        Instant now = clock.instant();
        Map<String, Object> header = ChainCodec.headerFields(kekId, wrappedKey, now, lastSeq, lastMac);
        String headerMac = ChainCodec.computeMac(chainKey, ChainCodec.LINE_DOMAIN, header);
        BatchBuffer bytes = new BatchBuffer();
        ChainCodec.writeLine(bytes, header, ChainCodec.MAC, headerMac);
        FileChannel nextChannel = null;
        FileOutputStream nextAppender = null;
        segmentLock.lock();
        try {
            try {
                Files.deleteIfExists(next);
                nextChannel = FileChannel.open(next, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(FILE_PERMISSIONS));
                bytes.writeFully(nextChannel);
                nextChannel.force(true);
                nextAppender = new FileOutputStream(next.toFile(), true);
                // Everything of the closing segment is on disk before it gets its final name, and
                // the anchor names its last record, which the new header continues from.
                channel.force(false);
                Anchor.write(file, chainKey, lastSeq, lastMac, now);
            } catch (IOException | RuntimeException e) {
                closeAll(nextChannel, nextAppender);
                Files.deleteIfExists(next);
                throw e instanceof IOException io ? io : new IOException(e.toString(), e);
            }
            try {
                Files.move(file, closed, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                syncDirectory(file.getParent());
                closeAll(channel, appender);
                channel = nextChannel;
                appender = nextAppender;
                segmentBase = lastSeq;
                segmentCreated = now;
                writtenBytes = bytes.size();
                lastMac = headerMac;
                Anchor.write(file, chainKey, lastSeq, headerMac, now);
            } catch (IOException | RuntimeException e) {
                IOException cause = fail(new IOException("cutting audit log segment " + closed.getFileName()
                        + " failed half-way (a restart completes or discards the cut): " + describe(e), e));
                throw cause;
            }
        } finally {
            segmentLock.unlock();
        }
        progress.lock();
        try {
            writtenMac = headerMac;
            syncedSeq = lastSeq;
            lastFsync = now;
            synced.signalAll();
        } finally {
            progress.unlock();
        }
        log.info("audit log {}: closed segment {} (seq {} to {}), new segment started", file, closed.getFileName(),
                first, lastSeq);
    }

    private static void closeAll(java.io.Closeable... closeables) {
        for (java.io.Closeable c : closeables) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException e) {
                    log.debug("closing a segment file: {}", e.getMessage());
                }
            }
        }
    }

    private static JsonGenerator newGenerator(BatchBuffer buffer) {
        try {
            return ChainCodec.lineGenerator(buffer);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write JSON into memory", e);
        }
    }

    /** Closes a generator whose buffered output is unwanted or already flushed; returns a fresh one. */
    private static JsonGenerator discardGenerator(JsonGenerator g, BatchBuffer buffer) {
        int keep = buffer.size();
        try {
            g.close(); // may flush a half record: cut it off again below
        } catch (IOException | RuntimeException ignored) {
            // the buffer is in memory; nothing else can fail
        }
        buffer.truncate(keep);
        return newGenerator(buffer);
    }

    private void runSyncer() {
        long intervalNanos = fsyncInterval.toNanos();
        long lastSyncNanos = System.nanoTime();
        try {
            while (true) {
                long target;
                String targetMac;
                progress.lock();
                try {
                    while (writtenSeq == syncedSeq && !stopSyncing && failure == null) {
                        syncerIdle = true;
                        written.await();
                    }
                    syncerIdle = false;
                    if (failure != null || writtenSeq == syncedSeq) {
                        return;
                    }
                    // Group commit: let records gather until an interval has passed since the last fsync.
                    long wait = intervalNanos - (System.nanoTime() - lastSyncNanos);
                    while (wait > 0 && !stopSyncing && failure == null) {
                        wait = stopRequested.awaitNanos(wait);
                    }
                    if (failure != null) {
                        return;
                    }
                    target = writtenSeq;
                    targetMac = writtenMac;
                } finally {
                    progress.unlock();
                }
                Instant now;
                segmentLock.lock();
                try {
                    now = clock.instant();
                    // A cut since `target` was read synced it, and the anchor names the new segment already.
                    if (target > segmentBase) {
                        channel.force(false);
                        now = clock.instant();
                        // Only now is record `target` known to be on disk, so only now may the anchor name it.
                        Anchor.write(file, chainKey, target, targetMac, now);
                    }
                } finally {
                    segmentLock.unlock();
                }
                lastSyncNanos = System.nanoTime();
                progress.lock();
                try {
                    syncedSeq = Math.max(syncedSeq, target);
                    lastFsync = now;
                    synced.signalAll();
                } finally {
                    progress.unlock();
                }
            }
        } catch (IOException e) {
            fail(new IOException("fsync of audit log " + file + " or its anchor failed: " + describe(e), e));
        } catch (InterruptedException e) {
            fail(new IOException("the audit fsync thread of " + file + " was interrupted"));
        } catch (RuntimeException | Error e) {
            fail(new IOException("the audit fsync thread of " + file + " failed: " + e, e));
            throw e;
        }
    }

    /** Marks the sink unusable (first failure wins) and wakes everyone waiting on it. */
    private IOException fail(IOException e) {
        IOException first;
        progress.lock();
        try {
            if (failure == null) {
                failure = e;
                log.error("audit log {} can no longer be written; every further record is refused: {}", file, e.getMessage());
            }
            first = failure;
            written.signalAll();
            synced.signalAll();
            stopRequested.signalAll();
        } finally {
            progress.unlock();
        }
        return first;
    }

    private IOException unusable(IOException cause) {
        return new IOException("audit log " + file + " is unusable after an earlier failure: " + cause.getMessage(), cause);
    }

    private IOException closedError() {
        return new IOException("audit log " + file + " is closed");
    }

    private AuditEvent systemEvent(String action, String outcome, String detail) {
        return new AuditEvent(clock.instant(), null, null, action, null, null, outcome, 0, null, detail);
    }

    // ---------------------------------------------------------------- helpers

    private void releaseLock() {
        try {
            lock.release();
        } catch (IOException e) {
            log.debug("releasing the lock of audit log {} failed: {}", file, e.getMessage());
        }
        try {
            lockChannel.close();
        } catch (IOException e) {
            log.debug("closing the lock file of audit log {} failed: {}", file, e.getMessage());
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            log.debug("closing audit log {} after a failed open: {}", file, e.getMessage());
        }
    }

    private static void syncDirectory(Path dir) {
        // Makes the new file's directory entry durable; some filesystems cannot fsync a
        // directory, and then there is nothing better to do than to go on.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            log.debug("cannot fsync directory {}: {}", dir, e.getMessage());
        }
    }

    private static void joinUninterruptibly(Thread thread) {
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

    private static String describe(Exception e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + message;
    }
}
