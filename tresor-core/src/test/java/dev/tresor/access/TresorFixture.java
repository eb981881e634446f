package dev.tresor.access;

import dev.tresor.Tresor;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.Failure;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretValue;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A whole Tresor on a fresh database of either kind: a local KEK in a temp folder, a clock the test
 * moves, and a monitor that records every integrity violation. Tests talk to it as the server does:
 * authenticate an identity, then call the facade with the {@link Caller}.
 */
public final class TresorFixture implements AutoCloseable {

    public static final String ROOT = "root";

    public final TestDatabase db;
    public final Path dir;
    public final dev.tresor.crypto.KeyProvider kek;
    public final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    public final RecordingMonitor monitor = new RecordingMonitor();
    private final List<Store> stores = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    public Store store;
    /** The node that {@link #auth}, {@link #read}, {@link #put} and the rest talk to (see {@link #on}). */
    public Tresor tresor;

    /** A running Tresor on this fixture's database, with the monitor that records its own integrity alarms. */
    public record Node(Tresor tresor, RecordingMonitor monitor) {}

    private TresorFixture(TestDatabase db, KekSource keks) {
        this.db = db;
        try {
            this.dir = Files.createTempDirectory("tresor-fixture-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.kek = keks.create(dir, "kek");
        try {
            this.store = openStore();
            this.tresor = Tresor.open(store, kek, monitor, clock);
            tresor.bootstrapAdmin(ROOT, id(ROOT));
            nodes.add(new Node(tresor, monitor));
        } catch (RuntimeException | Error e) {
            close(); // a failed start must not leak connection pools into the next test
            throw e;
        }
    }

    public static TresorFixture create(TestDatabase.Kind kind) {
        return create(kind, KekSource.LOCAL);
    }

    /** With the KEK from {@code keks} (the local key file unless a suite runs with another provider). */
    public static TresorFixture create(TestDatabase.Kind kind, KekSource keks) {
        return new TresorFixture(kind.create(), keks);
    }

    /** A new store (own pool) on the same database, closed with the fixture. */
    public Store openStore() {
        Store s = db.open();
        stores.add(s);
        return s;
    }

    /** A second Tresor on the same database: another server node, or this one after a restart. */
    public Tresor reopen() {
        return Tresor.open(openStore(), kek, monitor, clock);
    }

    /**
     * Starts one more node on the same database with a monitor of its own (as a second server
     * process has), so a test can tell which node raised an alarm. {@link #reopen()} instead
     * shares the first node's monitor.
     */
    public Node addNode() {
        RecordingMonitor own = new RecordingMonitor();
        Node node = new Node(Tresor.open(openStore(), kek, own, clock), own);
        nodes.add(node);
        return node;
    }

    /** The first node, then those of {@link #addNode()} in order. */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** Runs {@code action} with {@link #tresor} pointing at {@code node}, then points it back. */
    public <T> T on(Node node, java.util.function.Supplier<T> action) {
        Tresor before = tresor;
        tresor = node.tresor();
        try {
            return action.get();
        } finally {
            tresor = before;
        }
    }

    public static String id(String client) {
        return "spiffe://tresor.local/ns/test/sa/" + client;
    }

    public Caller root() {
        return tresor.authenticate(id(ROOT));
    }

    public Caller auth(String client) {
        return tresor.authenticate(id(client));
    }

    public void group(String name) {
        tresor.createGroup(root(), name, "group " + name);
    }

    /** Creates a client, adds it to {@code groups} with {@code role}, and authenticates it. */
    public Caller client(String name, boolean admin, Role role, String... groups) {
        Caller root = root();
        tresor.createClient(root, name, id(name), admin);
        for (String g : groups) {
            tresor.addMember(root, g, name, role);
        }
        return auth(name);
    }

    public VersionMeta put(Caller caller, String name, String value, String... groups) {
        return tresor.secrets().put(caller, name, new PutSecret(bytes(value), null, null,
                groups.length == 0 ? null : List.of(groups), null, null, null), tresor.groupCheck());
    }

    public VersionMeta put(Caller caller, String name, PutSecret request) {
        return tresor.secrets().put(caller, name, request, tresor.groupCheck());
    }

    public String read(Caller caller, String name) {
        return read(caller, name, VersionSelector.current());
    }

    public String read(Caller caller, String name, VersionSelector selector) {
        SecretValue v = tresor.secrets().read(caller, name, selector, false);
        return new String(v.value(), StandardCharsets.UTF_8);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static PutSecret value(String value) {
        return new PutSecret(bytes(value), null, null, null, null, null, null);
    }

    /** The failure kind an action ends with, or null if it succeeds. Other exceptions propagate. */
    public static Failure outcome(Runnable action) {
        try {
            action.run();
            return null;
        } catch (TresorException e) {
            return e.failure();
        }
    }

    @Override
    public void close() {
        for (Store s : stores) {
            try {
                s.close();
            } catch (RuntimeException e) {
                // already closed
            }
        }
        db.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp folder is harmless
        }
    }

    /** A clock the test moves by hand. */
    public static final class MutableClock extends Clock {
        private final AtomicLong millis;

        public MutableClock(Instant start) {
            this.millis = new AtomicLong(start.toEpochMilli());
        }

        public void advance(java.time.Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    /** Records every reported violation. */
    public static final class RecordingMonitor implements IntegrityMonitor {
        public record Violation(String subject, String detail) {}

        private final List<Violation> violations = new CopyOnWriteArrayList<>();

        @Override
        public void violation(String subject, String detail) {
            violations.add(new Violation(subject, detail));
        }

        public List<Violation> violations() {
            return List.copyOf(violations);
        }

        public List<String> subjects() {
            return violations.stream().map(Violation::subject).toList();
        }

        public void clear() {
            violations.clear();
        }
    }
}
