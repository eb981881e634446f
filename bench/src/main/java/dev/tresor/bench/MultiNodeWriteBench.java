package dev.tresor.bench;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.PutSecret;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Secret write throughput with 1 and with 3 nodes on one PostgreSQL (issue 17). Each node is a
 * {@link Tresor} with its own store pool (as a server process has), all in one JVM; W writer
 * threads are spread over the nodes round-robin and write new versions of their own secrets
 * (names differ, so only the store-wide locks are shared: the ACL head and the secret ledger head
 * that every secret write takes). The HTTP and audit layers are not in the path: this measures
 * what several nodes do to the store's write path.
 *
 * <pre>java ... dev.tresor.bench.MultiNodeWriteBench --nodes 1,3 --writers 3,12 --seconds 8 --out FILE.md</pre>
 */
public final class MultiNodeWriteBench {

    record Result(int nodes, int writers, long writes, double seconds, double p50, double p99, double cpuMicrosPerWrite) {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        Path dir = args.path("dir");
        Path out = Path.of(args.string("out", "bench/results/multi-node-writes.md"));
        int seconds = args.integer("seconds", 8);
        List<Integer> nodeCounts = ints(args.string("nodes", "1,3"));
        List<Integer> writerCounts = ints(args.string("writers", "3,12"));
        Files.createDirectories(dir);
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        PostgresDatabase db = EmbeddedPostgres.freshDatabase();
        StoreConfig config = StoreConfig.postgresql(db.jdbcUrl(), db.user(), db.password());
        String admin = "spiffe://bench.test/client/admin";
        try (Store first = Stores.open(config)) {
            Tresor t = Tresor.open(first, kek, IntegrityMonitor.NONE, Clock.systemUTC());
            t.bootstrapAdmin("admin", admin);
            t.createGroup(t.authenticate(admin), "app", null);
        }
        int reps = args.integer("reps", 3);
        for (int nodes : nodeCounts) {
            for (int writers : writerCounts) {
                run(config, kek, admin, nodes, writers, 2); // warm-up of every shape (JIT, pools, PostgreSQL caches)
            }
        }
        // Interleaved repetitions, the median one kept: on a shared machine a neighbour's burst hits one rep, not one shape.
        java.util.Map<String, List<Result>> reps0 = new java.util.LinkedHashMap<>();
        for (int rep = 0; rep < reps; rep++) {
            for (int nodes : nodeCounts) {
                for (int writers : writerCounts) {
                    Result r = run(config, kek, admin, nodes, writers, seconds);
                    System.out.printf(Locale.ROOT, "rep %d nodes=%d writers=%d: %.0f writes/s p50 %.2f ms p99 %.2f ms%n",
                            rep + 1, r.nodes(), r.writers(), r.writes() / r.seconds(), r.p50(), r.p99());
                    reps0.computeIfAbsent(nodes + "/" + writers, k -> new ArrayList<>()).add(r);
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (List<Result> shape : reps0.values()) {
            List<Result> sorted = new ArrayList<>(shape);
            sorted.sort(java.util.Comparator.comparingDouble(r -> r.writes() / r.seconds()));
            results.add(sorted.get(sorted.size() / 2));
        }
        StringBuilder table = new StringBuilder("| nodes | writers | writes/s | p50 | p99 | JVM CPU per write |\n"
                + "|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            table.append(String.format(Locale.ROOT, "| %d | %d | %.0f | %.2f ms | %.2f ms | %.0f µs |%n", r.nodes(), r.writers(),
                    r.writes() / r.seconds(), r.p50(), r.p99(), r.cpuMicrosPerWrite()));
        }
        String report = """
                # Secret writes with 1 and 3 nodes on one PostgreSQL

                `bench/multi-node-writes.sh` (`MultiNodeWriteBench`): N Tresor nodes in one JVM, each with its own
                store pool, on one embedded PostgreSQL 18 (fsync on, shipped settings); W writer threads spread
                round-robin over the nodes, each putting new versions of its own secrets for %d s; every shape
                warmed up first, then %d interleaved repetitions, the median one shown. HTTP and audit are not in the path. "JVM CPU per write" is this process's CPU time
                (all nodes, not PostgreSQL) divided by the writes.

                %s
                Every secret write locks the ACL head and the secret ledger head rows (one transaction with a
                commit fsync each), so writes from all nodes queue on the same two rows in PostgreSQL whichever
                node they come through. Machine: 2 cores shared with other work (PostgreSQL and the JVM on the
                same cores).
                """.formatted(seconds, reps, table);
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static Result run(StoreConfig config, LocalKeyProvider kek, String admin, int nodes, int writers, int seconds)
            throws Exception {
        List<Store> stores = new ArrayList<>();
        List<Tresor> tresors = new ArrayList<>();
        try {
            for (int i = 0; i < nodes; i++) {
                Store s = Stores.open(config);
                stores.add(s);
                tresors.add(Tresor.open(s, kek, IntegrityMonitor.NONE, Clock.systemUTC()));
            }
            AtomicBoolean running = new AtomicBoolean(true);
            CountDownLatch go = new CountDownLatch(1);
            List<List<Long>> latencies = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            String run = nodes + "n" + writers + "w" + System.nanoTime();
            for (int w = 0; w < writers; w++) {
                Tresor node = tresors.get(w % nodes);
                Caller root = node.authenticate(admin);
                List<Long> mine = new ArrayList<>();
                latencies.add(mine);
                String name = "bench/" + run + "/" + w;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    boolean created = false;
                    while (running.get()) {
                        byte[] value = "v".repeat(64).getBytes(StandardCharsets.UTF_8);
                        long t0 = System.nanoTime();
                        node.secrets().put(root, name, new PutSecret(value, null, null, created ? null : List.of("app"), null,
                                null, null), node.groupCheck());
                        mine.add(System.nanoTime() - t0);
                        created = true;
                    }
                }));
            }
            var bean = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = bean.getProcessCpuTime();
            long start = System.nanoTime();
            go.countDown();
            Thread.sleep(seconds * 1000L);
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
            double took = (System.nanoTime() - start) / 1e9;
            long cpu = bean.getProcessCpuTime() - cpu0;
            List<Long> all = new ArrayList<>();
            latencies.forEach(all::addAll);
            Collections.sort(all);
            return new Result(nodes, writers, all.size(), took, at(all, 0.50) / 1e6, at(all, 0.99) / 1e6,
                    all.isEmpty() ? 0 : cpu / 1000.0 / all.size());
        } finally {
            stores.forEach(Store::close);
        }
    }

    private static long at(List<Long> sorted, double q) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }

    private static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            out.add(Integer.parseInt(s.strip()));
        }
        return out;
    }
}
