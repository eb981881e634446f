package dev.tresor.integrity;

import dev.tresor.store.Rows.SecretBucketRow;
import dev.tresor.store.Rows.SecretHeadRow;
import dev.tresor.store.Rows.SecretJournalRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreReader;
import dev.tresor.store.StoreWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Makes a secret's rows count only while they are its current rows. Each secret row verifies on
 * its own (its MAC), but an older copy verifies too: put back together with its version rows it
 * would undo a revoke, a destroy or a new version. The ledger closes that gap:
 *
 * <ul>
 *   <li>every secret hashes to one of {@link #BUCKETS} bucket rows; a bucket lists the MAC of the
 *       current row of each of its secrets, and is itself MAC'd with its epoch. A secret row is
 *       accepted only if its bucket lists exactly its MAC.</li>
 *   <li>putting back an older bucket together with the older secret rows is caught while a node
 *       runs (each node remembers the highest epoch it saw per bucket) and at start-up (the head
 *       holds a keyed multiset sum over every bucket's (number, epoch, MAC), which then no longer
 *       adds up). Only a rollback of every bucket and the head together, that is, of all secret
 *       state at once, passes: the documented limit, noticed through the audit chain.</li>
 *   <li>a node learns of epochs it never read from the journal: one sealed row per epoch naming
 *       the bucket it changed. Whenever a read meets a head newer than the epoch this node
 *       {@linkplain #followLatest followed} to, the rows in between raise its marks before the read's
 *       check, and each commit notification does the same at once. So a bucket put back from
 *       before a change made on another node is refused by every node, not only by those that
 *       happened to read the newer bucket (issue 17). A journal with a row missing (pruned, or
 *       deleted) is never trusted to be complete: the node then re-reads every bucket against the
 *       head's sum, which catches a put-back bucket whatever the journal says.</li>
 * </ul>
 *
 * <p>Writers lock the head first (after the ACL head), which serialises secret writes; reads take
 * no lock and read one extra small row.
 */
public final class SecretLedger {

    public static final int BUCKETS = 4096;
    /** Journal rows kept behind the head; a node further behind re-reads every bucket instead. */
    static final long JOURNAL_RETAINED = 65_536;
    /** Writers prune the journal once per this many epochs. */
    static final long JOURNAL_PRUNE_EVERY = 1_024;

    private final RowSeals seals;
    private final StoreHeads storeHeads;
    private final Store store;
    private final AtomicLongArray highestEpochs = new AtomicLongArray(BUCKETS);
    private final Map<Integer, ParsedBucket> parsed = new ConcurrentHashMap<>();
    /** Held while marks are raised from the journal; {@link #followedEpoch} only moves under it. */
    private final ReentrantLock following = new ReentrantLock();
    /**
     * The head epoch up to which every bucket's change is in {@link #highestEpochs}: -1 until the
     * ledger was checked at start. Never goes back; a head older than it, read in a snapshot taken
     * after it was reached, is a rollback.
     */
    private volatile long followedEpoch = -1;
    private volatile SecretHeadRow verifiedHead;

    private final long journalRetained;
    private final long journalPruneEvery;

    /** {@code store} is read outside callers' snapshots: to tell a stale snapshot from a rollback, and to follow commits. */
    public SecretLedger(RowSeals seals, StoreHeads storeHeads, Store store) {
        this(seals, storeHeads, store, JOURNAL_RETAINED, JOURNAL_PRUNE_EVERY);
    }

    /** With a journal window of its own (tests: a window small enough to fall behind). */
    SecretLedger(RowSeals seals, StoreHeads storeHeads, Store store, long journalRetained, long journalPruneEvery) {
        this.seals = seals;
        this.storeHeads = storeHeads;
        this.store = store;
        this.journalRetained = journalRetained;
        this.journalPruneEvery = journalPruneEvery;
    }

    private record ParsedBucket(long epoch, byte[] mac, String entries, SortedMap<String, String> macsBySecret) {}

    public static int bucketOf(String secret) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return ((h[0] & 0xff) << 8 | (h[1] & 0xff)) % BUCKETS;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /**
     * Checks that {@code row} (whose own MAC was verified) is the secret's current row.
     *
     * @return null if it is, otherwise what is wrong (for the integrity report)
     */
    public String checkCurrent(StoreReader r, SecretRow row) {
        return checkCurrent(r, row, true);
    }

    /**
     * As {@link #checkCurrent(StoreReader, SecretRow)}; {@code remember} is false inside a write
     * transaction that may already have changed the bucket: what it reads may still roll back, so
     * it must not raise this node's high-water marks.
     */
    public String checkCurrent(StoreReader r, SecretRow row, boolean remember) {
        if (remember) {
            String lag = followInReadersSnapshot(r);
            if (lag != null) {
                return lag;
            }
        }
        int bucket = bucketOf(row.name());
        Optional<SecretBucketRow> stored = r.secretBucket(bucket);
        if (stored.isEmpty()) {
            return "the secret ledger bucket " + bucket + " listing this secret is missing";
        }
        ParsedBucket b = verified(stored.get(), remember);
        if (b == null) {
            return "the secret ledger bucket " + bucket + " does not verify";
        }
        long highest = highestEpochs.get(bucket);
        if (b.epoch() < highest && !snapshotBehind(bucket, highest)) {
            return "the secret ledger bucket " + bucket + " went back from epoch " + highest + " to " + b.epoch()
                    + " (secret rows were rolled back)";
        }
        String listed = b.macsBySecret().get(row.name());
        if (listed == null || !MessageDigest.isEqual(listed.getBytes(StandardCharsets.US_ASCII),
                Base64.getEncoder().encodeToString(row.mac()).getBytes(StandardCharsets.US_ASCII))) {
            return "the secret row is not its current row in the secret ledger (an older copy was put back)";
        }
        return null;
    }

    /**
     * True if the bucket as stored now is at {@code highest} or later: the caller's snapshot was
     * merely taken before a commit this node has since seen (its own write, or another reader's
     * newer snapshot), so its older bucket is that snapshot's truth, not a rollback. False if the
     * store itself holds an older bucket than this node knows of.
     */
    private boolean snapshotBehind(int bucket, long highest) {
        Optional<SecretBucketRow> now = store.read(r -> r.secretBucket(bucket));
        return now.isPresent() && now.get().epoch() >= highest && seals.valid(now.get());
    }

    private ParsedBucket verified(SecretBucketRow row, boolean remember) {
        ParsedBucket cached = parsed.get(row.bucket());
        if (row.entries() == null) {
            return null;
        }
        if (cached != null && cached.epoch() == row.epoch() && MessageDigest.isEqual(cached.mac(), row.mac())
                && cached.entries().equals(row.entries())) {
            return cached;
        }
        if (!seals.valid(row)) {
            return null;
        }
        SortedMap<String, String> entries;
        try {
            entries = parse(row.entries());
        } catch (IllegalArgumentException e) {
            return null;
        }
        ParsedBucket fresh = new ParsedBucket(row.epoch(), row.mac(), row.entries(), entries);
        if (remember) {
            highestEpochs.accumulateAndGet(row.bucket(), row.epoch(), Math::max);
            parsed.put(row.bucket(), fresh);
        }
        return fresh;
    }

    /**
     * Inside a write transaction that holds the head lock ({@link #lockHead}): records
     * {@code sealed} as the secret's current row.
     *
     * @return null on success, otherwise the integrity problem that stopped it (nothing written)
     */
    public String record(StoreWriter w, SecretRow sealed) {
        Optional<SecretHeadRow> head = w.lockSecretHead();
        if (head.isEmpty()) {
            // Every store gets its head when it is opened; minting one here would accept whatever
            // buckets someone left behind after deleting it.
            return "the secret ledger head is missing (deleted behind Tresor's back)";
        }
        if (!seals.valid(head.get())) {
            return "the secret ledger head does not verify";
        }
        int bucket = bucketOf(sealed.name());
        Optional<SecretBucketRow> stored = w.secretBucket(bucket);
        SortedMap<String, String> entries = new TreeMap<>();
        byte[] oldPrf = null;
        if (stored.isPresent()) {
            ParsedBucket b = verified(stored.get(), false);
            if (b == null) {
                return "the secret ledger bucket " + bucket + " does not verify";
            }
            if (b.epoch() < highestEpochs.get(bucket)) {
                return "the secret ledger bucket " + bucket + " was rolled back";
            }
            entries.putAll(b.macsBySecret());
            oldPrf = seals.bucketPrf(bucket, stored.get().epoch(), stored.get().mac());
        }
        long epoch = head.get().epoch() + 1;
        entries.put(sealed.name(), Base64.getEncoder().encodeToString(sealed.mac()));
        SecretBucketRow next = seals.seal(new SecretBucketRow(bucket, epoch, encode(entries), null));
        byte[] sum = head.get().bucketSum();
        if (oldPrf != null) {
            sum = subtract(sum, oldPrf);
        }
        sum = add(sum, seals.bucketPrf(bucket, epoch, next.mac()));
        w.putSecretBucket(next);
        w.putSecretHead(seals.seal(new SecretHeadRow(epoch, sum, null)));
        String unbound = storeHeads.bindAfterSecretChange(w, head.get());
        if (unbound != null) {
            return unbound;
        }
        // Replaces any row already at this epoch: the head, bound by the store head, says this
        // epoch is new, so such a row was put there behind Tresor's back.
        w.putSecretJournal(seals.seal(new SecretJournalRow(epoch, bucket, null)));
        if (epoch % journalPruneEvery == 0) {
            w.pruneSecretJournal(epoch - journalRetained);
        }
        // This node made the epoch, so once it is durable an older bucket is a rollback here too,
        // even if this node never reads the bucket again (a revoke then a replay of the rows from
        // before it was served until a read or a restart otherwise).
        w.afterCommit(() -> highestEpochs.accumulateAndGet(bucket, epoch, Math::max));
        return null;
    }

    /** The head of a ledger with no secret yet. */
    public SecretHeadRow emptyHead() {
        return seals.seal(new SecretHeadRow(0, new byte[SUM_BYTES], null));
    }

    /** Takes the head lock; call first in any write transaction that changes secret rows (after the ACL head). */
    public void lockHead(StoreWriter w) {
        w.lockSecretHead();
    }

    /**
     * Checks the whole ledger: the head verifies and its sum matches the buckets as stored. Run at
     * start-up; a mismatch means some buckets (and with them secret rows) were put back. When it
     * holds, this node's marks start from the buckets as checked, and it follows the journal from
     * the head's epoch on.
     *
     * @return null if consistent, otherwise the problem
     */
    public String checkAll(StoreReader r, boolean anySecret) {
        Optional<SecretHeadRow> head = r.secretHead();
        if (head.isEmpty()) {
            return anySecret ? "the secret ledger head is missing while secrets exist" : null;
        }
        if (!seals.valid(head.get())) {
            return "the secret ledger head does not verify";
        }
        following.lock();
        try {
            return resync(r, head.get());
        } finally {
            following.unlock();
        }
    }

    /**
     * Raises this node's marks to the head as stored now, in a read of its own, and reports a head
     * older than one this node already followed. Call on every commit notification: it bounds how
     * long a node can go without knowing a newer epoch by the notification's delay, not by when it
     * next reads the bucket.
     *
     * @return null if the ledger is consistent, otherwise the problem (for the integrity alarm)
     */
    public String followLatest() {
        // The snapshot begins with the first query, under the lock: it then shows at least the
        // head that any earlier follow (whose snapshot had begun before it released) reached.
        return store.read(this::followInFreshSnapshot);
    }

    /**
     * Raises the marks from the journal rows between the followed epoch and {@code r}'s head, or,
     * when the journal cannot be shown complete, from every bucket checked against the head's sum.
     * {@code r}'s snapshot began under the lock, so it shows at least the head any earlier follow
     * reached: an older head is a rollback.
     */
    private String followInFreshSnapshot(StoreReader r) {
        following.lock();
        try {
            Optional<SecretHeadRow> head = r.secretHead();
            if (head.isEmpty()) {
                return HEAD_MISSING;
            }
            String unbound = storeHeads.checkBindsSecret(r, head.get());
            return unbound != null ? unbound : followTo(r, head.get(), true);
        } finally {
            following.unlock();
        }
    }

    /**
     * As {@link #followInFreshSnapshot} in a reader's own snapshot, which may have begun before
     * another follow moved on: a head older than the followed epoch is then expected, not a
     * rollback. Takes the lock only when the head is newer than the followed epoch.
     */
    private String followInReadersSnapshot(StoreReader r) {
        if (followedEpoch < 0) {
            return null; // not opened yet: the check at start sets the marks
        }
        Optional<SecretHeadRow> head = r.secretHead();
        if (head.isEmpty()) {
            return HEAD_MISSING;
        }
        // In one snapshot the store head seals exactly this head: one put back on its own (with
        // the buckets and rows of its time) no longer does, however old this node's marks are.
        String unbound = storeHeads.checkBindsSecret(r, head.get());
        if (unbound != null) {
            return unbound;
        }
        if (head.get().epoch() <= followedEpoch) {
            return null;
        }
        following.lock();
        try {
            return followTo(r, head.get(), false);
        } finally {
            following.unlock();
        }
    }

    private static final String HEAD_MISSING = "the secret ledger head is missing (deleted behind Tresor's back)";

    /** Under {@link #following}. */
    private String followTo(StoreReader r, SecretHeadRow head, boolean freshSnapshot) {
        long followed = followedEpoch;
        if (head.epoch() < followed) {
            return freshSnapshot ? "the secret ledger head went back from epoch " + followed + " to " + head.epoch()
                    + " (the secret tables were rolled back)" : null;
        }
        if (head.epoch() == followed) {
            return null;
        }
        if (!headVerifies(head)) {
            return "the secret ledger head does not verify";
        }
        long missing = head.epoch() - followed;
        List<SecretJournalRow> rows = followed < 0 || missing > journalRetained
                ? List.of() : r.secretJournal(followed, head.epoch());
        if (!complete(rows, followed, head.epoch())) {
            return resync(r, head);
        }
        for (SecretJournalRow row : rows) {
            highestEpochs.accumulateAndGet(row.bucket(), row.epoch(), Math::max);
        }
        followedEpoch = head.epoch();
        return null;
    }

    private boolean headVerifies(SecretHeadRow head) {
        SecretHeadRow known = verifiedHead;
        if (known != null && known.epoch() == head.epoch() && MessageDigest.isEqual(known.mac(), head.mac())
                && MessageDigest.isEqual(known.bucketSum(), head.bucketSum())) {
            return true;
        }
        if (!seals.valid(head)) {
            return false;
        }
        verifiedHead = head;
        return true;
    }

    /** Every epoch in (after, upTo] has its row, in order, sealed: the journal tells every bucket that moved. */
    private boolean complete(List<SecretJournalRow> rows, long after, long upTo) {
        if (after < 0 || rows.size() != upTo - after) {
            return false;
        }
        long expected = after + 1;
        for (SecretJournalRow row : rows) {
            if (row.epoch() != expected++ || row.bucket() < 0 || row.bucket() >= BUCKETS || !seals.valid(row)) {
                return false;
            }
        }
        return true;
    }

    /** Under {@link #following}: checks every bucket of {@code r} against its verified head, then raises the marks to them. */
    private String resync(StoreReader r, SecretHeadRow head) {
        List<SecretBucketRow> buckets = r.secretBucketSeals();
        byte[] sum = new byte[0];
        for (SecretBucketRow b : buckets) {
            if (b.epoch() > head.epoch()) {
                return "secret ledger bucket " + b.bucket() + " is newer than the head";
            }
            sum = add(sum, seals.bucketPrf(b.bucket(), b.epoch(), b.mac()));
        }
        if (!MessageDigest.isEqual(normalise(sum), normalise(head.bucketSum()))) {
            return "the secret ledger buckets do not add up to the head (some secret rows were rolled back or removed)";
        }
        for (SecretBucketRow b : buckets) {
            highestEpochs.accumulateAndGet(b.bucket(), b.epoch(), Math::max);
        }
        if (head.epoch() > followedEpoch) {
            followedEpoch = head.epoch();
        }
        return null;
    }

    // The multiset sum is taken modulo 2^(8*SUM_BYTES); PRF outputs are keyed MACs, so nobody
    // without the key can make a different bucket set add up to the same value.
    private static final int SUM_BYTES = 40;
    private static final BigInteger MODULUS = BigInteger.ONE.shiftLeft(8 * SUM_BYTES);

    private static byte[] add(byte[] sum, byte[] prf) {
        return toBytes(new BigInteger(1, sum.length == 0 ? new byte[1] : sum).add(new BigInteger(1, prf)).mod(MODULUS));
    }

    private static byte[] subtract(byte[] sum, byte[] prf) {
        return toBytes(new BigInteger(1, sum.length == 0 ? new byte[1] : sum).subtract(new BigInteger(1, prf)).mod(MODULUS));
    }

    private static byte[] normalise(byte[] sum) {
        return toBytes(new BigInteger(1, sum.length == 0 ? new byte[1] : sum).mod(MODULUS));
    }

    private static byte[] toBytes(BigInteger value) {
        byte[] raw = value.toByteArray();
        byte[] out = new byte[SUM_BYTES];
        int copy = Math.min(raw.length, SUM_BYTES);
        System.arraycopy(raw, raw.length - copy, out, SUM_BYTES - copy, copy);
        return out;
    }

    // Secret names are [A-Za-z0-9._/-], so ':' and ',' are safe separators.
    static String encode(SortedMap<String, String> entries) {
        StringBuilder out = new StringBuilder();
        entries.forEach((name, mac) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(name).append(':').append(mac);
        });
        return out.toString();
    }

    static SortedMap<String, String> parse(String text) {
        SortedMap<String, String> map = new TreeMap<>();
        if (text != null && !text.isEmpty()) {
            for (String entry : text.split(",", -1)) {
                int colon = entry.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("malformed ledger entry");
                }
                map.put(entry.substring(0, colon), entry.substring(colon + 1));
            }
        }
        return map;
    }
}
