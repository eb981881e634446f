package dev.tresor.bench;

import dev.tresor.server.bootstrap.DataFolder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Read latency and throughput, listing cost, start-up time, memory and store size as the number
 * of stored secrets grows (e.g. 1 thousand, 100 thousand, 1 million), on SQLite and PostgreSQL.
 * One store per kind grows step by step: secrets are bulk-loaded in-process through
 * {@link BulkLoad} while the server is stopped, then {@code tresor server} is started and
 * measured. The reader reads the same 100 secrets at every size; the lister may read 10.
 */
public final class ScaleBench {

    /** One measured size of one store. */
    record Step(String store, int secrets, double loadSeconds, double loadPerSecond, double startupSeconds,
                double rssAfterStartMiB, double rssAfterLoadMiB, double heapAfterGcMiB, double storeMiB,
                List<LoadResult> reads, List<LoadResult> lists) {}

    /** Read windows of one size taken in alternating server runs (see {@link #interleavedRounds}). */
    record Round(String store, int secrets, List<LoadResult> reads) {}

    private ScaleBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        List<String> stores = List.of(a.string("stores", "sqlite,postgresql").split(","));
        List<Integer> sizes = a.integers("sizes", "1000,100000,1000000");
        int reps = a.integer("reps", 3);
        Duration window = a.seconds("window", 10);
        Duration warm = a.seconds("jit-warmup", 60);
        int connections = a.integer("connections", 16);
        int rounds = a.integer("rounds", 3);
        int loadThreads = a.integer("load-threads", 2);
        Path out = Path.of(a.string("out", "bench/results"));
        a.checkAllUsed();
        Files.createDirectories(out);
        Reports.Machine machine = Reports.Machine.describe();
        System.out.println("machine: " + machine.markdown());
        String name = "scale-" + String.join("-", stores);
        Path raw = out.resolve(name + ".jsonl");
        Files.deleteIfExists(raw);
        List<Step> steps = new ArrayList<>();
        List<Round> allRounds = new ArrayList<>();
        for (String store : stores) {
            steps.addAll(runStore(root, work.resolve(store), store, sizes, reps, window, warm, connections, raw, rounds,
                    loadThreads, allRounds));
        }
        Files.writeString(out.resolve(name + ".md"), markdown(steps, allRounds, machine, reps, window, warm, connections, name),
                StandardCharsets.UTF_8);
        System.out.println(Files.readString(out.resolve(name + ".md")));
    }

    private static List<Step> runStore(Path root, Path dir, String store, List<Integer> sizes, int reps, Duration window,
                                       Duration warm, int connections, Path raw, int rounds, int loadThreads,
                                       List<Round> roundsOut) throws Exception {
        StoreFolder sf = StoreFolder.create(dir, store);
        DataFolder folder = sf.folder();
        DataFolder.AdminCredentials admin = sf.admin();
        int api = sf.apiPort();
        int mgmt = sf.managementPort();
        DataDir data = new DataDir(dir);
        Path certs = Files.createDirectories(dir.resolve("bench-clients"));
        DataDir.Credentials reader = data.issueClient("reader", data.identityOf("reader"), certs);
        DataDir.Credentials lister = data.issueClient("lister", data.identityOf("lister"), certs);
        List<String> readPaths = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            readPaths.add("/v1/secrets/" + BulkLoad.name(i));
        }
        List<Step> steps = new ArrayList<>();
        java.util.Map<Integer, Path> snapshots = new java.util.HashMap<>();
        int loaded = 0;
        boolean first = true;
        for (int size : sizes) {
            long t0 = System.nanoTime();
            try (BulkLoad load = new BulkLoad(folder.config(), admin.identity())) {
                if (first) {
                    load.setUp(reader.identity(), lister.identity());
                    first = false;
                }
                int start = loaded;
                load.put(loaded, size, loadThreads, i -> {
                    if ((i + 1) % 50_000 == 0) {
                        System.out.printf(Locale.ROOT, "%s: %d secrets loaded (%.0f/s)%n", store, i + 1,
                                (i + 1 - start) / ((System.nanoTime() - t0) / 1e9));
                    }
                });
            }
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            double rate = (size - loaded) / loadSeconds;
            System.out.printf(Locale.ROOT, "%s: loaded %d -> %d secrets in %.0f s (%.0f/s)%n", store, loaded, size, loadSeconds, rate);
            loaded = size;
            try (ServerProcess server = ServerProcess.start(root, folder.config(), mgmt, dir.resolve("server-" + size + ".log"), List.of())) {
                double rssStart = ProcStat.rssMiB(server.pid());
                List<Long> pids = sf.serverPids(server);
                Endpoint readerEp = data.endpoint(reader, api);
                Endpoint listerEp = data.endpoint(lister, api);
                RequestPlan reads = RequestPlan.gets(readPaths, "application/octet-stream");
                RequestPlan lists = RequestPlan.gets(List.of("/v1/secrets"), "application/json");
                // JIT warm-up, not measured: the same procedure at every size.
                LoadGenerator.run(spec("warm", readerEp, reads, connections, Duration.ZERO, warm, pids));
                LoadGenerator.run(spec("warm", listerEp, lists, 4, Duration.ZERO, Duration.ofSeconds(10), pids));
                List<LoadResult> readResults = new ArrayList<>();
                List<LoadResult> listResults = new ArrayList<>();
                for (int r = 0; r < reps; r++) {
                    LoadResult rr = LoadGenerator.run(spec(store + "-" + size + "-read", readerEp, reads, connections,
                            Duration.ofSeconds(2), window, pids));
                    LoadResult lr = LoadGenerator.run(spec(store + "-" + size + "-list", listerEp, lists, 4,
                            Duration.ofSeconds(1), window.dividedBy(2), pids));
                    System.out.println(rr.summary());
                    System.out.println(lr.summary());
                    readResults.add(rr);
                    listResults.add(lr);
                    Files.writeString(raw, Reports.json(rr) + "\n" + Reports.json(lr) + "\n", StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                }
                double rssLoad = ProcStat.rssMiB(server.pid());
                double heap = server.heapAfterGcMiB();
                Step step = new Step(store, size, loadSeconds, rate, server.startupSeconds(), rssStart, rssLoad, heap,
                        sf.storeMiB(), readResults, listResults);
                steps.add(step);
                Files.writeString(raw, Reports.json(new Object[] {"step", store, size, loadSeconds, rate, server.startupSeconds(),
                        rssStart, rssLoad, heap, step.storeMiB()}) + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
                System.out.printf(Locale.ROOT, "%s %d: start-up %.2f s, RSS %.0f/%.0f MiB, heap after GC %.0f MiB, store %.1f MiB%n",
                        store, size, server.startupSeconds(), rssStart, rssLoad, heap, step.storeMiB());
            }
            if (sf.pg() == null && size != sizes.getLast()) {
                snapshots.put(size, copyFolder(dir, dir.resolveSibling(dir.getFileName() + "-at-" + size)));
            }
        }
        snapshots.put(sizes.getLast(), dir);
        if (sf.pg() == null && rounds > 0 && sizes.size() > 1) {
            roundsOut.addAll(interleavedRounds(root, store, sizes, snapshots, rounds, window, warm, connections, mgmt, api,
                    data, reader, readPaths, raw));
        }
        return steps;
    }

    /**
     * The sizes measured again in alternating server runs (1k, 1M, 1k, 1M, ...), each a fresh JVM
     * on a copy of the store as it was at that size, with the same warm-up: machine drift over the
     * half hour a big load takes then affects every size alike. SQLite only: a PostgreSQL snapshot
     * needs rights the benchmark's database role does not have.
     */
    private static List<Round> interleavedRounds(Path root, String store, List<Integer> sizes,
                                                 java.util.Map<Integer, Path> folders, int rounds, Duration window,
                                                 Duration warm, int connections, int mgmt, int api, DataDir data,
                                                 DataDir.Credentials reader, List<String> readPaths, Path raw)
            throws Exception {
        java.util.Map<Integer, List<LoadResult>> bySize = new java.util.LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            for (int size : sizes) {
                Path folder = folders.get(size);
                try (ServerProcess server = ServerProcess.start(root, folder.resolve("tresor.yaml"), mgmt,
                        folder.resolve("server-round-" + r + ".log"), List.of())) {
                    List<Long> pids = List.of(server.pid());
                    Endpoint readerEp = data.endpoint(reader, api);
                    RequestPlan reads = RequestPlan.gets(readPaths, "application/octet-stream");
                    LoadGenerator.run(spec("warm", readerEp, reads, connections, Duration.ZERO, warm, pids));
                    LoadResult rr = LoadGenerator.run(spec(store + "-" + size + "-round-" + r, readerEp, reads, connections,
                            Duration.ofSeconds(2), window, pids));
                    System.out.println(rr.summary());
                    bySize.computeIfAbsent(size, k -> new ArrayList<>()).add(rr);
                    Files.writeString(raw, Reports.json(rr) + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
                }
            }
        }
        List<Round> out = new ArrayList<>();
        bySize.forEach((size, results) -> out.add(new Round(store, size, results)));
        return out;
    }

    /** A stopped server's data folder, copied whole (its config names files relative to itself). */
    private static Path copyFolder(Path from, Path to) throws java.io.IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return to;
    }

    /** Measured windows (warm-up not zero) wait for the server's JIT to be quiet: see {@link ReadVsNginx}. */
    private static LoadGenerator.Spec spec(String label, Endpoint e, RequestPlan plan, int conns, Duration warmup,
                                           Duration window, List<Long> pids) {
        return new LoadGenerator.Spec(label, e, plan, conns, warmup, window, 10_000_000, pids, LoadGenerator.Spec.success(),
                warmup.isZero() ? null : new JitQuiet(pids.getFirst()).settleCheck());
    }

    private static String markdown(List<Step> steps, List<Round> rounds, Reports.Machine machine, int reps, Duration window, Duration warm,
                                   int connections, String name) {
        StringBuilder md = new StringBuilder("# Scale benchmark: reads, listing, start-up, memory and size vs number of secrets\n\n");
        md.append("Made by `bench/scale.sh`. Machine at start: ").append(machine.markdown()).append(".\n\n");
        md.append("Secrets (64-byte values) are bulk-loaded **in-process through `dev.tresor.Tresor`** (same authorisation, "
                + "envelopes, row seals, ledger and one durable transaction per secret as the API, without HTTP/TLS; "
                + "2 loading threads by default) while the server is stopped; the store grows step by step. Then `tresor server` (production JVM flags) is started: "
                + "start-up = process start to the first ready `/readyz`. Each server JVM gets the same unmeasured warm-up ("
                + warm.toSeconds() + " s of reads, 10 s of listing); then ").append(reps).append(" repetitions of a ")
                .append(window.toSeconds()).append(" s read window (").append(connections).append(" connections, "
                        + "`Accept: application/octet-stream`, 100 secrets the reader may read) and a ")
                .append(window.dividedBy(2).toSeconds()).append(" s listing window (4 connections, `GET /v1/secrets` by a client that "
                        + "may read 10), each after 2 s (1 s) on its fresh connections and then until the server's JIT compiled "
                        + "nothing for a second (at most " + LoadGenerator.MAX_SETTLE.toSeconds() + " s; fresh TLS connections "
                        + "make HotSpot recompile the TLS path). Median (min–max) over the repetitions; latency in µs. CPU = server process (and, for "
                        + "PostgreSQL, its processes) per request.\n\n");
        md.append("| store | secrets | load /s | start-up s | RSS start / after MiB | heap after GC MiB | store MiB "
                + "| read req/s | read p50 | read p99 | read CPU µs/req | list req/s | list p50 | list p99 | list CPU µs/req | errors |\n");
        md.append("|---|---:|---:|---:|---|---:|---:|---|---|---|---|---|---|---|---|---:|\n");
        for (Step s : steps) {
            long errors = s.reads().stream().mapToLong(LoadResult::errors).sum() + s.lists().stream().mapToLong(LoadResult::errors).sum();
            md.append(String.format(Locale.ROOT, "| %s | %,d | %.0f | %.2f | %.0f / %.0f | %.0f | %.1f | ", s.store(), s.secrets(),
                    s.loadPerSecond(), s.startupSeconds(), s.rssAfterStartMiB(), s.rssAfterLoadMiB(), s.heapAfterGcMiB(), s.storeMiB()))
                    .append(Reports.Spread.of(s.reads(), LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.reads(), LoadResult::p50).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.reads(), LoadResult::p99).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.reads(), LoadResult::serverCpuMicrosPerRequest).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.lists(), LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.lists(), LoadResult::p50).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.lists(), LoadResult::p99).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(s.lists(), LoadResult::serverCpuMicrosPerRequest).format("%.0f")).append(" | ")
                    .append(errors).append(" |\n");
        }
        md.append("\n## Read p99 at the largest size vs the smallest (goal ≤ 1.2)\n\n");
        for (String store : steps.stream().map(Step::store).distinct().toList()) {
            List<Step> of = steps.stream().filter(s -> s.store().equals(store)).toList();
            Step small = of.getFirst();
            Step large = of.getLast();
            double ratio = Reports.Spread.of(large.reads(), LoadResult::p99).median() / Reports.Spread.of(small.reads(), LoadResult::p99).median();
            double p50 = Reports.Spread.of(large.reads(), LoadResult::p50).median() / Reports.Spread.of(small.reads(), LoadResult::p50).median();
            md.append(String.format(Locale.ROOT, "- %s: p99 %,d vs %,d secrets = **%.2f** %s (p50 ratio %.2f)%n", store, large.secrets(),
                    small.secrets(), ratio, ratio <= 1.2 ? "✓" : "✗", p50));
        }
        if (!rounds.isEmpty()) {
            md.append("\n## Interleaved rounds: each size again in alternating fresh server runs\n\n")
                    .append("After the last load, every size is measured again in turns (smallest, …, largest, smallest, …), "
                            + "each run a fresh server JVM on a copy of the store taken at that size, with the same warm-up and one ")
                    .append(window.toSeconds()).append(" s read window: drift of the shared machine over the load then touches "
                            + "every size alike. Median (min–max) over the rounds.\n\n");
            md.append("| store | secrets | rounds | read req/s | read p50 | read p99 | read CPU µs/req | errors |\n");
            md.append("|---|---:|---:|---|---|---|---|---:|\n");
            for (Round r : rounds) {
                md.append(String.format(Locale.ROOT, "| %s | %,d | %d | ", r.store(), r.secrets(), r.reads().size()))
                        .append(Reports.Spread.of(r.reads(), LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(r.reads(), LoadResult::p50).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(r.reads(), LoadResult::p99).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(r.reads(), LoadResult::serverCpuMicrosPerRequest).format("%.0f")).append(" | ")
                        .append(r.reads().stream().mapToLong(LoadResult::errors).sum()).append(" |\n");
            }
            md.append('\n');
            for (String store : rounds.stream().map(Round::store).distinct().toList()) {
                List<Round> of = rounds.stream().filter(r -> r.store().equals(store)).toList();
                Round small = of.getFirst();
                Round large = of.getLast();
                double ratio = Reports.Spread.of(large.reads(), LoadResult::p99).median() / Reports.Spread.of(small.reads(), LoadResult::p99).median();
                double p50 = Reports.Spread.of(large.reads(), LoadResult::p50).median() / Reports.Spread.of(small.reads(), LoadResult::p50).median();
                md.append(String.format(Locale.ROOT, "- %s, interleaved: p99 %,d vs %,d secrets = **%.2f** %s (p50 ratio %.2f)%n",
                        store, large.secrets(), small.secrets(), ratio, ratio <= 1.2 ? "✓" : "✗", p50));
            }
        }
        md.append("\nLoad average during the read windows: ")
                .append(Reports.Spread.of(steps.stream().flatMap(s -> s.reads().stream()).toList(), LoadResult::loadAverage).format("%.2f"))
                .append(". Raw runs: `").append(name).append(".jsonl`.\n");
        return md.toString();
    }
}
