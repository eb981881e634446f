package dev.tresor.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code PUT /v1/secrets/{name}} throughput and latency on SQLite and PostgreSQL, with the
 * shipped durability settings (SQLite WAL + synchronous=FULL; PostgreSQL's defaults; audit
 * group commit as configured by {@code tresor init}). Each request adds a new version (64-byte
 * value) to one of 100 secrets; interleaved repetitions at several connection counts.
 */
public final class WriteBench {

    private WriteBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        List<String> stores = List.of(a.string("stores", "sqlite,postgresql").split(","));
        List<Integer> conns = a.integers("connections", "1,8,32");
        int reps = a.integer("reps", 3);
        Duration window = a.seconds("window", 10);
        Duration warm = a.seconds("jit-warmup", 40);
        Path out = Path.of(a.string("out", "bench/results"));
        a.checkAllUsed();
        Files.createDirectories(out);
        Reports.Machine machine = Reports.Machine.describe();
        System.out.println("machine: " + machine.markdown());
        Files.deleteIfExists(out.resolve("writes.jsonl"));
        List<LoadResult> results = new ArrayList<>();
        List<String> sizes = new ArrayList<>();
        for (String store : stores) {
            StoreFolder sf = StoreFolder.create(work.resolve(store), store);
            try (ServerProcess server = ServerProcess.start(root, sf.folder().config(), sf.managementPort(),
                    sf.folder().dir().resolve("server.log"), List.of())) {
                Endpoint admin = sf.data().endpoint(new DataDir.Credentials(sf.admin().cert(), sf.admin().key(), sf.admin().ca(),
                        sf.admin().identity()), sf.apiPort());
                try (ApiClient c = new ApiClient(admin)) {
                    c.ok("POST", "/v1/groups", "{\"name\":\"w\"}");
                    for (int i = 0; i < 100; i++) {
                        c.ok("PUT", "/v1/secrets/w/s-" + String.format("%03d", i), "{\"value\":\"initial\",\"groups\":[\"w\"]}");
                    }
                }
                RequestPlan puts = putPlan();
                List<Long> pids = sf.serverPids(server);
                LoadGenerator.run(new LoadGenerator.Spec("warm", admin, puts, 8, Duration.ZERO, warm, 10_000_000, pids,
                        LoadGenerator.Spec.success()));
                for (int r = 0; r < reps; r++) {
                    for (int c : conns) {
                        LoadResult res = LoadGenerator.run(new LoadGenerator.Spec(store + "-put", admin, puts, c,
                                Duration.ofSeconds(2), window, 10_000_000, pids, LoadGenerator.Spec.success()));
                        System.out.println(res.summary());
                        results.add(res);
                        Files.writeString(out.resolve("writes.jsonl"), Reports.json(res) + "\n", StandardCharsets.UTF_8,
                                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                    }
                }
                sizes.add(String.format(Locale.ROOT, "%s store after the run: %.1f MiB", store, sf.storeMiB()));
            }
        }
        StringBuilder md = new StringBuilder("# Write benchmark: PUT throughput and latency\n\n");
        md.append("Made by `bench/writes.sh`. Machine at start: ").append(machine.markdown()).append(".\n\n");
        md.append("`tresor server` from a `tresor init` folder, shipped durability: SQLite WAL with `synchronous=FULL`, PostgreSQL "
                + "18 (embedded, testkit) with its defaults (`fsync=on`, `synchronous_commit=on`), audit log group commit "
                + "(`fsyncInterval: 50ms`, records written before each answer). Each request is `PUT /v1/secrets/w/s-NNN` "
                + "by an admin with a 64-byte value: a new version of one of 100 secrets. After ")
                .append(warm.toSeconds()).append(" s of unmeasured warm-up, ").append(reps).append(" repetitions per "
                        + "connection count of a ").append(window.toSeconds()).append(" s window; median (min–max); latency in µs; "
                        + "CPU = server (and PostgreSQL) processes per request.\n\n");
        md.append("| store | connections | PUT/s | p50 µs | p90 µs | p99 µs | p99.9 µs | server CPU µs/req | errors |\n");
        md.append("|---|---:|---|---|---|---|---|---|---:|\n");
        for (String store : stores) {
            for (int c : conns) {
                List<LoadResult> rs = results.stream().filter(r -> r.label().equals(store + "-put") && r.connections() == c).toList();
                md.append("| ").append(store).append(" | ").append(c).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p50).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p90).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p99).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p999).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).format("%.0f")).append(" | ")
                        .append(rs.stream().mapToLong(LoadResult::errors).sum()).append(" |\n");
            }
        }
        md.append("\n").append(String.join("; ", sizes)).append(". Load average in the windows: ")
                .append(Reports.Spread.of(results, LoadResult::loadAverage).format("%.2f")).append(". Raw runs: `writes.jsonl`.\n");
        Files.writeString(out.resolve("writes.md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
    }

    /** PUTs of a fresh 64-byte text value to secret (connection*7 + n) mod 100. */
    private static RequestPlan putPlan() {
        SecureRandom random = new SecureRandom();
        return (connection, sequence) -> {
            String name = "/v1/secrets/w/s-" + String.format("%03d", (int) ((connection * 7L + sequence) % 100));
            byte[] body = ("{\"value\":\"" + Populate.randomText(random, 64) + "\"}").getBytes(StandardCharsets.UTF_8);
            return HttpConnection.request("PUT", name, "application/json", "application/json", body);
        };
    }
}
