package dev.tresor.bench;

import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.testkit.RsyslogServer;
import dev.tresor.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Secret reads with the audit file sink only against file + a best-effort syslog copy over TLS
 * to a real rsyslogd on the same machine: what shipping every record to a SIEM costs a read.
 * One SQLite data folder, two configs that differ only in the syslog sink; interleaved rounds
 * (file, file+syslog, file, ...), each a fresh server, JIT warm-up, then a measured window.
 */
public final class AuditCopyBench {

    private AuditCopyBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        int rounds = a.integer("rounds", 3);
        int connections = a.integer("connections", 8);
        Duration window = a.seconds("window", 10);
        Duration warm = a.seconds("jit-warmup", 30);
        Path out = Path.of(a.string("out", "bench/results"));
        // After the measured rounds, one more per variant under a JFR CPU profile (not counted).
        String profileDir = a.string("profile-dir", "");
        a.checkAllUsed();
        Files.createDirectories(out);
        Reports.Machine machine = Reports.Machine.describe();

        StoreFolder sf = StoreFolder.create(work.resolve("data"), "sqlite");
        DataFolder folder = sf.folder();
        DataDir data = new DataDir(folder.dir());
        Path certs = Files.createDirectories(folder.dir().resolve("bench-clients"));
        DataDir.Credentials reader = data.issueClient("reader", data.identityOf("reader"), certs);
        DataDir.Credentials lister = data.issueClient("lister", data.identityOf("lister"), certs);
        try (BulkLoad load = new BulkLoad(folder.config(), sf.admin().identity())) {
            load.setUp(reader.identity(), lister.identity());
            load.put(0, 100, 2, i -> { });
        }
        List<String> readPaths = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            readPaths.add("/v1/secrets/" + BulkLoad.name(i));
        }

        TestPki collectorPki = TestPki.create("bench-siem-ca");
        Path siemCa = collectorPki.writeCaPem(work.resolve("siem-ca.pem"));
        Map<String, List<LoadResult>> byVariant = new LinkedHashMap<>();
        Map<String, List<Double>> collectorPerRead = new LinkedHashMap<>();
        Path raw = out.resolve("audit-copy.jsonl");
        Files.deleteIfExists(raw);
        long received = 0;
        long reads = 0;
        try (RsyslogServer rsyslog = new RsyslogServer(work.resolve("rsyslog"), collectorPki)) {
            rsyslog.start();
            String plain = Files.readString(folder.config());
            String marker = "      path: audit.log\n";
            if (!plain.contains(marker)) {
                throw new IllegalStateException("the data folder's config has no file sink to add a syslog sink after");
            }
            Path withSyslog = folder.dir().resolve("tresor-syslog.yaml");
            Files.writeString(withSyslog, plain.replace(marker, marker + """
                        - kind: syslog
                          address: "localhost:%d"
                          ca: %s
                    """.formatted(rsyslog.port(), siemCa)));
            Map<String, Path> variants = new LinkedHashMap<>();
            variants.put("file", folder.config());
            variants.put("file + syslog (TLS, best-effort)", withSyslog);
            RequestPlan plan = RequestPlan.gets(readPaths, "application/octet-stream");
            for (int r = 0; r < rounds; r++) {
                for (Map.Entry<String, Path> v : variants.entrySet()) {
                    try (ServerProcess server = ServerProcess.start(root, v.getValue(), sf.managementPort(),
                            folder.dir().resolve("server-" + r + "-" + (v.getKey().contains("syslog") ? "syslog" : "file") + ".log"),
                            List.of())) {
                        List<Long> pids = List.of(server.pid());
                        Endpoint ep = data.endpoint(reader, sf.apiPort());
                        LoadGenerator.run(new LoadGenerator.Spec("warm", ep, plan, connections, Duration.ZERO, warm,
                                10_000_000, pids, LoadGenerator.Spec.success()));
                        // rsyslogd's CPU from the moment the server's JIT has settled (the window opens
                        // right after) to the end of the run: its cost per read, which the two cores pay too.
                        java.util.function.BooleanSupplier jitQuiet = new JitQuiet(server.pid()).settleCheck();
                        double[] collectorCpu0 = {Double.NaN};
                        List<Long> collector = List.of(rsyslog.pid());
                        LoadResult res = LoadGenerator.run(new LoadGenerator.Spec(v.getKey() + " round " + r, ep, plan,
                                connections, Duration.ofSeconds(2), window, 10_000_000, pids, LoadGenerator.Spec.success(),
                                () -> {
                                    boolean quiet = jitQuiet.getAsBoolean();
                                    collectorCpu0[0] = ProcStat.cpuSeconds(collector);
                                    return quiet;
                                }));
                        double collectorMicros = (ProcStat.cpuSeconds(collector) - collectorCpu0[0]) * 1e6 / res.requests();
                        collectorPerRead.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(collectorMicros);
                        System.out.println(res.summary() + String.format(Locale.ROOT, "  rsyslogd %.1f us/read", collectorMicros));
                        byVariant.computeIfAbsent(v.getKey(), k -> new ArrayList<>()).add(res);
                        Files.writeString(raw, Reports.json(res) + "\n", StandardCharsets.UTF_8,
                                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                        if (v.getKey().contains("syslog")) {
                            reads += res.requests();
                        }
                    }
                }
            }
            if (!profileDir.isEmpty()) {
                Files.createDirectories(Path.of(profileDir));
                for (Map.Entry<String, Path> v : variants.entrySet()) {
                    String tag = v.getKey().contains("syslog") ? "syslog" : "file";
                    Path jfr = Path.of(profileDir).toAbsolutePath().resolve("audit-copy-" + tag + ".jfr");
                    try (ServerProcess server = ServerProcess.start(root, v.getValue(), sf.managementPort(),
                            folder.dir().resolve("server-profile-" + tag + ".log"),
                            List.of("-XX:StartFlightRecording:settings=profile,filename=" + jfr))) {
                        Endpoint ep = data.endpoint(reader, sf.apiPort());
                        LoadGenerator.run(new LoadGenerator.Spec("profile warm " + tag, ep, plan, connections, Duration.ZERO,
                                warm, 10_000_000, List.of(server.pid()), LoadGenerator.Spec.success()));
                        System.out.println(LoadGenerator.run(new LoadGenerator.Spec("profile " + tag, ep, plan, connections,
                                Duration.ZERO, window, 10_000_000, List.of(server.pid()), LoadGenerator.Spec.success())).summary());
                    }
                    System.out.println("JFR recording (warm-up and window, not a figure of the table): " + jfr);
                }
            }
            received = rsyslog.awaitLines(0).size();
        }
        StringBuilder md = new StringBuilder("# Audit copies: reads with the file sink only vs file + syslog\n\n");
        md.append("Made by `bench/audit-copy.sh`. Machine at start: ").append(machine.markdown()).append(".\n\n");
        md.append("`tresor server` on a `tresor init` SQLite folder, 100 secrets of 64 bytes read as octet-stream by one"
                + " client over ").append(connections).append(" mTLS keep-alive connections. Two configs that differ only"
                + " in an extra `kind: syslog` sink (best-effort, RFC 5424 over TLS to a real rsyslogd on this machine,"
                + " which writes every message to a file). ").append(rounds).append(" interleaved rounds, each a fresh"
                + " server, ").append(warm.toSeconds()).append(" s of unmeasured JIT warm-up, then a ")
                .append(window.toSeconds()).append(" s window; median (min–max). CPU = the server process per request;"
                + " rsyslogd's own CPU is on the same two cores, so the throughput column includes its cost, which a"
                + " collector on another machine would not. rsyslogd CPU µs/read is its user+system CPU from the end of the"
                + " JIT settling (the window opens right after) to the end of the run, over the window's reads (the copy"
                + " lags by up to 20 ms at both ends, so it is close, not exact); with the file sink alone it shows"
                + " rsyslogd idle.\n\n");
        md.append("| audit sinks | reads/s | p50 µs | p99 µs | server CPU µs/read | rsyslogd CPU µs/read | errors |\n"
                + "|---|---|---|---|---|---|---:|\n");
        for (Map.Entry<String, List<LoadResult>> e : byVariant.entrySet()) {
            List<LoadResult> rs = e.getValue();
            md.append("| ").append(e.getKey()).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::p50).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::p99).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).format("%.1f")).append(" | ")
                    .append(Reports.Spread.of(collectorPerRead.get(e.getKey()), Double::doubleValue).format("%.1f")).append(" | ")
                    .append(rs.stream().mapToLong(LoadResult::errors).sum()).append(" |\n");
        }
        md.append(String.format(Locale.ROOT, "%nrsyslogd received %,d messages over the syslog rounds (measured windows"
                + " of %,d reads plus warm-ups, connection set-up and the server's own records).%n", received, reads));
        Files.writeString(out.resolve("audit-copy.md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
    }
}
