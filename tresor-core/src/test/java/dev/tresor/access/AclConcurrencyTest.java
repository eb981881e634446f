package dev.tresor.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.Tresor;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.model.ClientView;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.file.Path;
import java.util.Optional;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ACL edits from two server nodes at once must serialise on the ACL head; neither may lose the
 * other's registration (a lost registration makes an honest client look tampered with).
 */
class AclConcurrencyTest {

    @Nested
    class SQLite extends Race {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Race {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Race {
        /** Own threads: the common pool may have a single thread on a 2-core machine, which would serialise the race. */
        private static final java.util.concurrent.Executor THREADS = task -> Thread.ofPlatform().daemon().start(task);
        private final TestDatabase.Kind kind;
        private TestDatabase db;
        private Store storeA;
        private Store storeB;
        private Store storeC;
        private final TresorFixture.RecordingMonitor monitor = new TresorFixture.RecordingMonitor();

        @TempDir
        Path tmp;

        Race(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void open() {
            db = kind.create();
            storeA = db.open();
            storeB = db.open();
        }

        @AfterEach
        void close() {
            storeA.close();
            storeB.close();
            if (storeC != null) {
                storeC.close();
            }
            db.close();
        }

        /**
         * A read takes its snapshot of the ACL head; before it checks the head against this node's
         * high-water mark, another transaction commits a newer head and a reader on the same node
         * raises the mark. The older snapshot is legitimate (it was current when taken), so no
         * rollback may be reported: the mark that counts is the one from before the read.
         */
        @Test
        void aSnapshotOverTakenByANewerHeadOnTheSameNodeIsNotARollback() {
            LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
            Tresor node = Tresor.open(storeA, kek, monitor, Clock.systemUTC());
            node.bootstrapAdmin("root", TresorFixture.id("root"));
            Caller root = node.authenticate(TresorFixture.id("root"));
            node.createClient(root, "before", TresorFixture.id("before"), false);
            AccessControl acl = node.access();
            java.util.concurrent.atomic.AtomicLong epochRead = new java.util.concurrent.atomic.AtomicLong();

            AccessControl.HeadOrProblem outcome = storeA.read(r -> acl.verifyHead(after(r, "aclHead", row -> {
                ((Optional<?>) row).ifPresent(head -> epochRead.set(((dev.tresor.store.Rows.AclHeadRow) head).epoch()));
                node.createClient(root, "meanwhile", TresorFixture.id("meanwhile"), false); // commits a newer head
                storeA.read(fresh -> acl.verifyHead(fresh));            // and the node sees it: mark raised
            })));

            assertThat(outcome.problem()).isNull();
            assertThat(outcome.head().epoch()).isEqualTo(epochRead.get());
            assertThat(storeA.read(acl::verifyHead).head().epoch()).isGreaterThan(epochRead.get());
            assertThat(monitor.violations()).isEmpty();
        }

        /**
         * The same race on the secret ledger: a read's snapshot holds a bucket at epoch N; before
         * it is checked, another secret of that bucket gets a new version and this node reads it
         * (its mark for the bucket becomes N+1). The read is confirmed under the ledger lock and
         * succeeds; nothing is reported.
         */
        @Test
        void aSecretReadOvertakenByANewerLedgerBucketIsNotARollback() {
            LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
            java.util.concurrent.atomic.AtomicReference<Runnable> hook = new java.util.concurrent.atomic.AtomicReference<>();
            Store hooked = (Store) java.lang.reflect.Proxy.newProxyInstance(Store.class.getClassLoader(),
                    new Class<?>[] {Store.class}, (proxy, method, args) -> {
                        if (method.getName().equals("read")) {
                            @SuppressWarnings("unchecked")
                            java.util.function.Function<dev.tresor.store.StoreReader, Object> work =
                                    (java.util.function.Function<dev.tresor.store.StoreReader, Object>) args[0];
                            return storeA.read(r -> work.apply(after(r, "secretBucket", bucket -> {
                                Runnable armed = hook.getAndSet(null);
                                if (armed != null) {
                                    armed.run();
                                }
                            })));
                        }
                        try {
                            return method.invoke(storeA, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            Tresor node = Tresor.open(hooked, kek, monitor, Clock.systemUTC());
            node.bootstrapAdmin("root", TresorFixture.id("root"));
            Caller root = node.authenticate(TresorFixture.id("root"));
            node.createGroup(root, "g", null);
            String target = "race/target";
            String neighbour = null;
            for (int i = 0; neighbour == null; i++) {
                if (dev.tresor.integrity.SecretLedger.bucketOf("race/n" + i) == dev.tresor.integrity.SecretLedger.bucketOf(target)) {
                    neighbour = "race/n" + i;
                }
            }
            String sameBucket = neighbour;
            for (String name : java.util.List.of(target, sameBucket)) {
                node.secrets().put(root, name, new dev.tresor.model.PutSecret("v1".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        null, null, java.util.List.of("g"), null, null, null), node.groupCheck());
            }
            hook.set(() -> {
                node.secrets().put(root, sameBucket, new dev.tresor.model.PutSecret("v2".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        null, null, java.util.List.of("g"), null, null, null), node.groupCheck());
                node.secrets().meta(root, sameBucket); // this node now knows the newer bucket
            });

            assertThat(node.secrets().meta(root, target).name()).isEqualTo(target);
            assertThat(hook.get()).as("the race was staged").isNull();
            assertThat(monitor.violations()).isEmpty();
        }

        /** A reader that hands the result of each call of {@code method} to {@code after} before returning it. */
        private static dev.tresor.store.StoreReader after(dev.tresor.store.StoreReader reader, String method,
                                                        java.util.function.Consumer<Object> after) {
            return (dev.tresor.store.StoreReader) java.lang.reflect.Proxy.newProxyInstance(
                    dev.tresor.store.StoreReader.class.getClassLoader(), new Class<?>[] {dev.tresor.store.StoreReader.class},
                    (proxy, called, args) -> {
                        Object result;
                        try {
                            result = called.invoke(reader, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (called.getName().equals(method)) {
                            after.accept(result);
                        }
                        return result;
                    });
        }

        /**
         * The very first ACL edits of a store (two nodes running {@code tresor init} / bootstrap at the
         * same moment): there is no ACL head row to lock yet. Node A starts first and commits last.
         * On SQLite the second writer simply waits for the first; on PostgreSQL nothing serialises
         * them unless the first head insert does.
         */
        @Test
        void twoNodesCreatingTheFirstClientsConcurrentlyBothStayRegistered() throws Exception {
            LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
            Tresor nodeA = Tresor.open(storeA, kek, monitor, Clock.systemUTC());
            Tresor nodeB = Tresor.open(storeB, kek, monitor, Clock.systemUTC());
            CountDownLatch aInside = new CountDownLatch(1);
            CountDownLatch bDone = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
            CompletableFuture<Void> a = CompletableFuture.runAsync(() -> {
                try {
                    storeA.write(w -> {
                        AclEditor acl = nodeA.access().edit(w);
                        acl.createClient("alpha", TresorFixture.id("alpha"), true, "bootstrap");
                        aInside.countDown();
                        try {
                            // Wait (bounded) for B; where B is serialised behind A it cannot finish first.
                            bDone.await(2, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        acl.finish();
                        return null;
                    });
                } catch (RuntimeException e) {
                    // Refusing one of the two edits (a conflict to retry) is fine; silently losing one is not.
                    refused.incrementAndGet();
                } finally {
                    aInside.countDown();
                }
            }, THREADS);
            assertThat(aInside.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> b = CompletableFuture.runAsync(() -> {
                try {
                    storeB.write(w -> {
                        AclEditor acl = nodeB.access().edit(w);
                        acl.createClient("bravo", TresorFixture.id("bravo"), true, "bootstrap");
                        acl.finish();
                        return null;
                    });
                } catch (RuntimeException e) {
                    refused.incrementAndGet();
                } finally {
                    bDone.countDown();
                }
            }, THREADS);
            a.get(60, TimeUnit.SECONDS);
            b.get(60, TimeUnit.SECONDS);
            assertThat(refused.get()).as("edits refused").isLessThanOrEqualTo(1);

            storeC = db.open();
            Tresor fresh = Tresor.open(storeC, kek, monitor, Clock.systemUTC());
            // Every client row that exists must be registered: authenticating it works.
            java.util.List<String> existing = new java.util.ArrayList<>();
            for (String name : new String[] {"alpha", "bravo"}) {
                if (storeA.read(r -> r.client(name)).isPresent()) {
                    existing.add(name);
                    assertThat(fresh.authenticate(TresorFixture.id(name)).name()).isEqualTo(name);
                }
            }
            assertThat(existing).hasSize(2 - refused.get());
            assertThat(fresh.listClients(fresh.authenticate(TresorFixture.id(existing.getFirst()))))
                    .allMatch(ClientView::intact);
            assertThat(monitor.violations()).isEmpty();
        }

        /** Many concurrent ACL edits on an established store: all land, every client stays intact. */
        @Test
        void concurrentMembershipChangesFromTwoNodesAllLand() throws Exception {
            LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
            Tresor nodeA = Tresor.open(storeA, kek, monitor, Clock.systemUTC());
            Tresor nodeB = Tresor.open(storeB, kek, monitor, Clock.systemUTC());
            nodeA.bootstrapAdmin("root", TresorFixture.id("root"));
            Caller rootA = nodeA.authenticate(TresorFixture.id("root"));
            Caller rootB = nodeB.authenticate(TresorFixture.id("root"));
            for (int g = 0; g < 4; g++) {
                nodeA.createGroup(rootA, "g" + g, null);
            }
            java.util.List<CompletableFuture<Void>> all = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                Tresor node = t % 2 == 0 ? nodeA : nodeB;
                Caller root = t % 2 == 0 ? rootA : rootB;
                all.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 10; i++) {
                        String name = "c" + thread + "-" + i;
                        node.createClient(root, name, TresorFixture.id(name), false);
                        for (int g = 0; g < 4; g++) {
                            node.addMember(root, "g" + g, name, dev.tresor.model.Role.READ);
                        }
                    }
                }, THREADS));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
            assertThat(nodeB.listClients(rootB)).hasSize(41).allMatch(ClientView::intact);
            for (int t = 0; t < 4; t++) {
                for (int i = 0; i < 10; i++) {
                    assertThat(nodeA.authenticate(TresorFixture.id("c" + t + "-" + i)).groups()).hasSize(4);
                }
            }
            assertThat(monitor.violations()).isEmpty();
        }
    }
}
