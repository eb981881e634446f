package dev.tresor.integrity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.RowAuthenticator;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger on its own, on a real SQLite store: what a bucket accepts, and what the head sum catches. */
class SecretLedgerTest {

    @TempDir
    Path dir;

    private Store store;
    private RowSeals seals;
    private StoreHeads heads;

    @BeforeEach
    void open() throws Exception {
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        seals = new RowSeals(new RowAuthenticator(InternalKey.unwrapMac(kek, "row-mac",
                InternalKey.newWrappedMacKey(kek, "row-mac"))));
        store = Stores.open(StoreConfig.sqlite(dir.resolve("tresor.db")));
        heads = new StoreHeads(seals, dev.tresor.keys.KeyringSource.fixed(dev.tresor.crypto.Keyring.generate("ledger-test")));
        SecretLedger empty = new SecretLedger(seals, heads, store);
        store.write(w -> {
            var acl = seals.seal(0, "");
            var secret = empty.emptyHead();
            w.createHeadsIfMissing(acl, secret, heads.initial(acl, secret));
            return null;
        });
    }

    @AfterEach
    void close() {
        store.close();
    }

    private SecretRow row(String name, int latest) {
        return seals.seal(new SecretRow(name, List.of("g"), new TreeMap<>(), latest, null, 1, "t", 1, null, false, null));
    }

    private void save(SecretLedger ledger, SecretRow row) {
        store.write(w -> {
            ledger.lockHead(w);
            if (w.secret(row.name()).isEmpty()) {
                w.insertSecret(row);
            } else {
                w.updateSecret(row);
            }
            assertThat(ledger.record(w, row)).isNull();
            return null;
        });
    }

    @Test
    void onlyTheLatestRowOfASecretIsCurrent() {
        SecretLedger ledger = new SecretLedger(seals, heads, store);
        SecretRow v1 = row("app/db", 1);
        save(ledger, v1);
        SecretRow v2 = row("app/db", 2);
        save(ledger, v2);
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v2))).isNull();
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v1))).contains("not its current row");
        assertThat(store.<String>read(r -> ledger.checkAll(r, true))).isNull();
    }

    /** Two secrets in one bucket, a transaction that records both and then rolls back: no false alarm later. */
    @Test
    void aRolledBackWriteLeavesNoHighWaterMarkBehind() {
        SecretLedger ledger = new SecretLedger(seals, heads, store);
        String first = "a/0";
        String second = null;
        for (int i = 1; second == null; i++) {
            if (SecretLedger.bucketOf("a/" + i) == SecretLedger.bucketOf(first)) {
                second = "a/" + i;
            }
        }
        SecretRow a = row(first, 1);
        save(ledger, a);
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, a))).isNull();
        String sameBucket = second;
        assertThatThrownBy(() -> store.write(w -> {
            ledger.lockHead(w);
            SecretRow b = row(sameBucket, 1);
            w.insertSecret(b);
            assertThat(ledger.record(w, b)).isNull();
            SecretRow a2 = row(first, 2);
            assertThat(ledger.checkCurrent(w, a, false)).isNull(); // reads the bucket it just changed, remembers nothing
            w.updateSecret(a2);
            assertThat(ledger.record(w, a2)).isNull();
            throw new IllegalStateException("roll back");
        })).hasMessage("roll back");
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, a))).isNull();
        assertThat(store.<String>read(r -> ledger.checkAll(r, true))).isNull();
    }

    @Test
    void theHeadSumCatchesAnOlderBucketPutBack() {
        SecretLedger ledger = new SecretLedger(seals, heads, store);
        SecretRow v1 = row("app/db", 1);
        save(ledger, v1);
        var oldBucket = store.read(r -> r.secretBucket(SecretLedger.bucketOf("app/db")).orElseThrow());
        SecretRow v2 = row("app/db", 2);
        save(ledger, v2);
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v2))).isNull(); // this node has now seen the newer bucket
        store.write(w -> {
            w.updateSecret(v1);
            w.putSecretBucket(oldBucket);
            return null;
        });
        // A fresh node (no memory) accepts the row on its own, but the head sum does not add up.
        SecretLedger fresh = new SecretLedger(seals, heads, store);
        assertThat(store.<String>read(r -> fresh.checkCurrent(r, v1))).isNull();
        assertThat(store.<String>read(r -> fresh.checkAll(r, true))).contains("do not add up");
        // The node that saw the newer bucket refuses the row outright.
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v1))).contains("went back");
    }

    /**
     * A read whose snapshot began before this node's own write committed sees the older bucket,
     * while the node's mark already names the newer epoch: that is an older snapshot, consistent
     * in itself, not a rollback, and must raise no alarm.
     */
    @Test
    void aSnapshotTakenBeforeTheNodesOwnWriteIsNotARollback() throws Exception {
        SecretLedger ledger = new SecretLedger(seals, heads, store);
        SecretRow v1 = row("app/db", 1);
        save(ledger, v1);
        SecretRow v2 = row("app/db", 2);
        String problem = store.read(r -> {
            SecretRow seen = r.secret("app/db").orElseThrow(); // the snapshot starts here, at v1
            Thread writer = Thread.ofPlatform().start(() -> save(ledger, v2));
            try {
                writer.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ledger.checkCurrent(r, seen);
        });
        assertThat(problem).isNull();
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v2))).isNull();
        assertThat(store.<String>read(r -> ledger.checkCurrent(r, v1))).contains("not its current row");
    }

    /** A second node on the store: opened (checked at start) before the other node's writes. */
    private SecretLedger startedNode(SecretLedger node) {
        assertThat(store.<String>read(r -> node.checkAll(r, true))).isNull();
        return node;
    }

    private void putBack(SecretRow row, dev.tresor.store.Rows.SecretBucketRow bucket) {
        store.write(w -> {
            w.updateSecret(row);
            w.putSecretBucket(bucket);
            return null;
        });
    }

    @Test
    void aNodeThatNeverReadTheNewerBucketLearnsItFromTheJournal() {
        SecretLedger writer = new SecretLedger(seals, heads, store);
        SecretRow v1 = row("app/db", 1);
        save(writer, v1);
        SecretLedger reader = startedNode(new SecretLedger(seals, heads, store));
        assertThat(store.<String>read(r -> reader.checkCurrent(r, v1))).isNull();
        var oldBucket = store.read(r -> r.secretBucket(SecretLedger.bucketOf("app/db")).orElseThrow());
        save(writer, row("app/db", 2)); // the reader does not read it
        putBack(v1, oldBucket);
        assertThat(store.<String>read(r -> reader.checkCurrent(r, v1))).contains("went back");
    }

    @Test
    void aNodeBehindThePrunedJournalReChecksEveryBucketAgainstTheHead() {
        SecretLedger writer = new SecretLedger(seals, heads, store, 4, 2);
        SecretRow v1 = row("app/db", 1);
        save(writer, v1);
        SecretLedger reader = startedNode(new SecretLedger(seals, heads, store, 4, 2));
        var oldBucket = store.read(r -> r.secretBucket(SecretLedger.bucketOf("app/db")).orElseThrow());
        save(writer, row("app/db", 2));
        for (int i = 0; i < 8; i++) {
            save(writer, row("other/" + i, 1));
        }
        long head = store.read(r -> r.secretHead().orElseThrow().epoch());
        List<dev.tresor.store.Rows.SecretJournalRow> journal = store.read(r -> r.secretJournal(0, head));
        assertThat(journal).as("pruned to the window").hasSizeLessThanOrEqualTo(5)
                .allSatisfy(j -> assertThat(j.epoch()).isGreaterThan(head - 5));
        // Honest: the re-check finds everything in order and the reader serves.
        SecretLedger honest = startedNode(new SecretLedger(seals, heads, store, 4, 2));
        save(writer, row("other/9", 1));
        for (int i = 0; i < 6; i++) {
            save(writer, row("more/" + i, 1));
        }
        assertThat(store.<String>read(r -> honest.checkCurrent(r, row("app/db", 2)))).isNull();
        // Put back: the journal no longer reaches back to the reader's epoch, the head's sum catches it.
        putBack(v1, oldBucket);
        assertThat(store.<String>read(r -> reader.checkCurrent(r, v1))).contains("do not add up");
    }

    @Test
    void aNodeFollowingCommitsReportsALedgerHeadThatWentBack() {
        SecretLedger writer = new SecretLedger(seals, heads, store);
        save(writer, row("app/db", 1));
        SecretLedger follower = startedNode(new SecretLedger(seals, heads, store));
        var oldHead = store.read(r -> r.secretHead().orElseThrow());
        var oldStoreHead = store.read(r -> r.storeHead().orElseThrow());
        save(writer, row("app/db", 2));
        assertThat(follower.followLatest()).isNull();
        store.write(w -> {
            w.putSecretHead(oldHead);
            w.putStoreHead(oldStoreHead);
            return null;
        });
        assertThat(follower.followLatest()).contains("went back");
    }
}
