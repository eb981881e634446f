package dev.tresor.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.model.Failure;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.TresorException;
import dev.tresor.store.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The change feed on each store: what a watcher is told (and, above all, never told), cursor
 * semantics, 410 for a cursor that is too old or too new, expiry entries, and wake-ups from a
 * write made on another node (SQLite: another connection pool on the file; PostgreSQL: another
 * pool, woken through LISTEN/NOTIFY, also after its notification connection was killed).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestDatabase.Kind.class)
class ChangeFeedTest {

    @Parameter
    TestDatabase.Kind kind;

    private TresorFixture t;
    private ChangeFeed feed;

    private ChangeFeed startFeed(Tresor on) {
        ChangeFeed started = on.changeFeed(new ChangeFeed.Settings(Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1)));
        started.start();
        return started;
    }

    private void setUp() {
        t = TresorFixture.create(kind);
        feed = startFeed(t.tresor);
    }

    @AfterEach
    void tearDown() {
        if (feed != null) {
            feed.close();
        }
        if (t != null) {
            t.close();
        }
    }

    private static String describe(List<Change> changes) {
        return changes.stream().map(c -> c.kind().wireName() + ":" + c.secret() + (c.version() == null ? "" : "@" + c.version())
                + (c.label() == null ? "" : "#" + c.label())).collect(Collectors.joining(" "));
    }

    /** Everything after {@code since} that {@code who} is told, following "more" to the end. */
    private String seen(Caller who, long since) {
        StringBuilder out = new StringBuilder();
        long cursor = since;
        FeedPage page;
        do {
            page = feed.page(t.auth(who.name()), cursor);
            if (!page.changes().isEmpty()) {
                out.append(out.isEmpty() ? "" : " ").append(describe(page.changes()));
            }
            cursor = page.cursor();
        } while (page.more());
        return out.toString();
    }

    @Test
    void aWatcherIsToldOfChangesToWhatItMayReadAndNothingElse() {
        setUp();
        t.group("ga");
        t.group("gb");
        Caller a = t.client("alice", false, Role.READ, "ga");
        Caller b = t.client("bob", false, Role.READ, "gb");
        Caller root = t.root();
        long start = feed.head();

        t.put(root, "app/a", "v1", "ga");
        t.put(root, "app/hidden", "v1", "gb");
        t.put(root, "app/a", "v2");
        t.tresor.secrets().label(root, "app/a", "stable", 1, null);
        t.tresor.secrets().label(root, "app/hidden", "stable", 1, null);
        t.tresor.secrets().delete(root, "app/hidden", false);
        t.tresor.secrets().restore(root, "app/hidden");

        assertEquals("version:app/a@1 version:app/a@2 label:app/a@1#stable", seen(a, start));
        assertEquals("version:app/hidden@1 label:app/hidden@1#stable deleted:app/hidden restored:app/hidden", seen(b, start));
        assertEquals("version:app/a@1 version:app/hidden@1 version:app/a@2 label:app/a@1#stable label:app/hidden@1#stable "
                + "deleted:app/hidden restored:app/hidden", seen(root, start), "an admin may read everything");

        // A grant tells the group's members; a revoke tells those who lost the secret, nobody else.
        long beforeGrant = feed.head();
        t.tresor.grant(root, "ga", "app/hidden");
        assertEquals("granted:app/hidden", seen(a, beforeGrant));
        assertEquals("", seen(b, beforeGrant), "bob could read it before and is not in the group");
        long beforeRevoke = feed.head();
        t.tresor.revoke(root, "ga", "app/hidden");
        assertEquals("revoked:app/hidden", seen(a, beforeRevoke));
        assertEquals("", seen(b, beforeRevoke));
        assertEquals("", seen(root, beforeRevoke), "an admin still reads it: nothing was revoked for it");

        // Joining and leaving a group tells the client, once per secret the group holds.
        long beforeJoin = feed.head();
        t.tresor.addMember(root, "gb", "alice", Role.READ);
        assertEquals("granted:app/hidden", seen(a, beforeJoin));
        assertEquals("", seen(b, beforeJoin));
        long beforeLeave = feed.head();
        t.tresor.removeMember(root, "gb", "alice");
        assertEquals("revoked:app/hidden", seen(a, beforeLeave));

        // A destroyed secret is still announced to its readers; the name of what alice cannot read never is.
        long beforeDestroy = feed.head();
        t.tresor.secrets().delete(root, "app/hidden", true);
        assertEquals("destroyed:app/hidden", seen(b, beforeDestroy));
        assertFalse(seen(a, start).contains("app/hidden@") || seen(a, start).contains("deleted:app/hidden")
                || seen(a, start).contains("destroyed:app/hidden"), seen(a, start));
    }

    @Test
    void deletingAGroupTellsEachMemberWhatItLost() {
        setUp();
        t.group("gone");
        t.group("stays");
        Caller a = t.client("alice", false, Role.READ, "gone");
        Caller b = t.client("bob", false, Role.READ, "gone", "stays");
        Caller root = t.root();
        t.put(root, "only/gone", "x", "gone");
        t.put(root, "both", "x", "gone", "stays");
        long before = feed.head();

        t.tresor.deleteGroup(root, "gone");

        assertEquals("revoked:both revoked:only/gone", seen(a, before));
        assertEquals("revoked:only/gone", seen(b, before), "bob still reads 'both' through 'stays'");
    }

    @Test
    void theCursorMovesPastWhatTheCallerIsNotShownAndAnAnswerNeverRepeats() {
        setUp();
        t.group("ga");
        t.group("gb");
        Caller a = t.client("alice", false, Role.READ, "ga");
        long start = feed.head();
        t.put(t.root(), "theirs", "x", "gb");
        FeedPage first = feed.page(t.auth("alice"), start);
        assertTrue(first.changes().isEmpty());
        assertEquals(feed.head(), first.cursor(), "skipped entries still move the cursor");
        t.put(t.root(), "mine", "x", "ga");
        FeedPage second = feed.page(t.auth("alice"), first.cursor());
        assertEquals("version:mine@1", describe(second.changes()));
        assertEquals("", describe(feed.page(a, second.cursor()).changes()), "nothing twice");
    }

    @Test
    void longPagesSayThereIsMore() {
        setUp();
        Caller root = t.root();
        long start = feed.head();
        for (int i = 0; i < ChangeFeed.MAX_CHANGES_PER_PAGE + 3; i++) {
            t.put(root, "bulk/s" + i, "x");
        }
        FeedPage first = feed.page(root, start);
        assertEquals(ChangeFeed.MAX_CHANGES_PER_PAGE, first.changes().size());
        assertTrue(first.more());
        FeedPage rest = feed.page(root, first.cursor());
        assertEquals(3, rest.changes().size());
        assertFalse(rest.more());
    }

    @Test
    void aCursorTooNewOrTooOldIsGoneAndSaysReList() {
        setUp();
        Caller root = t.root();
        long start = feed.head();
        TresorException tooNew = assertThrows(TresorException.class, () -> feed.page(root, start + 10));
        assertEquals(Failure.GONE, tooNew.failure());
        assertTrue(tooNew.getMessage().contains("re-list"), tooNew.getMessage());

        t.put(root, "old", "x");
        t.put(root, "old", "y");
        t.clock.advance(Duration.ofHours(2));
        t.put(root, "new", "x");
        feed.prune();
        TresorException tooOld = assertThrows(TresorException.class, () -> feed.page(root, start));
        assertEquals(Failure.GONE, tooOld.failure());
        assertTrue(tooOld.getMessage().contains("older than the oldest change kept"), tooOld.getMessage());
        assertEquals("version:new@1", describe(feed.page(root, feed.head() - 1).changes()));

        // Pruning always keeps the newest entry, so the cursor of a quiet store stays valid.
        t.clock.advance(Duration.ofHours(2));
        feed.prune();
        assertEquals("", describe(feed.page(root, feed.head()).changes()));
    }

    @Test
    void anExpiryIsRecordedOnceWhenItsTimePasses() {
        setUp();
        t.group("ga");
        t.client("alice", false, Role.READ, "ga");
        Caller root = t.root();
        Instant expires = t.clock.instant().plus(Duration.ofMinutes(5));
        t.put(root, "short", new PutSecret(TresorFixture.bytes("x"), null, expires, List.of("ga"), null, null, null));
        long start = feed.head();
        feed.recordExpiries();
        assertEquals("", seen(t.auth("alice"), start), "not yet");
        t.clock.advance(Duration.ofMinutes(6));
        feed.recordExpiries();
        feed.recordExpiries();
        assertEquals("expired:short@1", seen(t.auth("alice"), start));

        // A second node recording the same expiry (from its own start) adds nothing.
        ChangeFeed other = startFeed(t.reopen());
        try {
            other.recordExpiries();
        } finally {
            other.close();
        }
        assertEquals("expired:short@1", seen(t.auth("alice"), start));
    }

    @Test
    void aWatcherOnAnotherNodeIsWokenByAWrite() throws Exception {
        setUp();
        Caller root = t.root();
        ChangeFeed nodeB = startFeed(t.reopen());
        try {
            long start = nodeB.head();
            CompletableFuture<FeedPage> waiting = CompletableFuture.supplyAsync(() -> awaitQuietly(nodeB, root, start));
            t.put(root, "from/node-a", "x");
            FeedPage page = waiting.get(60, TimeUnit.SECONDS);
            assertEquals("version:from/node-a@1", describe(page.changes()),
                    "an answer that ended with the wait would be empty: the watcher was woken by the write");
        } finally {
            nodeB.close();
        }
    }

    /**
     * Every wake-up runs the node's commit hook, which lets its integrity marks follow another
     * node's commit (Tresor#followCommits) even when no request reads the changed rows.
     */
    @Test
    void aWriteOnAnotherNodeRunsTheCommitHookOfThisNodesFeed() {
        setUp();
        Caller root = t.root();
        Tresor nodeB = t.reopen();
        java.util.concurrent.atomic.AtomicLong followed = new java.util.concurrent.atomic.AtomicLong();
        // No rows are filtered here (nobody watches), so the feed needs no row seals.
        ChangeFeed feedB = new ChangeFeed(nodeB.store(), null, t.clock,
                new ChangeFeed.Settings(Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1)), () -> {
                    nodeB.followCommits();
                    followed.incrementAndGet();
                });
        feedB.start();
        try {
            dev.tresor.testkit.Await.until("node B's feed listening", () -> followed.get() > 0 || kind == TestDatabase.Kind.SQLITE);
            long before = followed.get();
            t.put(root, "from/node-a", "x");
            dev.tresor.testkit.Await.until("node B followed node A's commit", () -> followed.get() > before);
            assertTrue(t.monitor.subjects().isEmpty(), "following an honest commit raises no alarm: " + t.monitor.subjects());
        } finally {
            feedB.close();
        }
    }

    @Test
    void aLostNotificationConnectionIsReopenedAndNothingIsMissed() throws Exception {
        if (kind != TestDatabase.Kind.POSTGRESQL) {
            return; // SQLite has no notification connection to lose; its polling is covered above.
        }
        setUp();
        Caller root = t.root();
        ChangeFeed nodeB = startFeed(t.reopen());
        try {
            try (Connection admin = t.db.connect(); Statement st = admin.createStatement()) {
                String listeners = "FROM pg_stat_activity WHERE query LIKE 'LISTEN tresor_changes%' "
                        + "AND datname = current_database() AND pid <> pg_backend_pid()";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int listening = 0;
                while (listening < 2 && System.nanoTime() < deadline) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) " + listeners)) {
                        rs.next();
                        listening = rs.getInt(1);
                    }
                }
                int killed = 0;
                try (ResultSet rs = st.executeQuery("SELECT pg_terminate_backend(pid) " + listeners)) {
                    while (rs.next()) {
                        killed += rs.getBoolean(1) ? 1 : 0;
                    }
                }
                assertTrue(killed >= 2, "both nodes' listening connections were found and cut, got " + killed);
            }
            long start = nodeB.head();
            CompletableFuture<FeedPage> waiting = CompletableFuture.supplyAsync(() -> awaitQuietly(nodeB, root, start));
            t.put(root, "after/cut", "x");
            assertEquals("version:after/cut@1", describe(waiting.get(60, TimeUnit.SECONDS).changes()));
        } finally {
            nodeB.close();
        }
    }

    private static FeedPage awaitQuietly(ChangeFeed on, Caller caller, long since) {
        try {
            return on.await(() -> caller, since, Duration.ofSeconds(45));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
