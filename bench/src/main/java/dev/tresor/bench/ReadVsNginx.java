package dev.tresor.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Secret reads against a 64-byte static file served by nginx, in one run on one machine, with the
 * same client certificate, TLS version and cipher suite. First the Tresor JVM is warmed until
 * {@code jstat -compiler} stops changing; then repetitions interleave every (connections, target)
 * pair, each a short warm-up and a fixed window. Prints and writes a markdown table of medians
 * (min–max), the Tresor/nginx ratios against the goals, a PNG plot and the raw runs (JSON lines).
 * Started by bench/read-vs-nginx.sh, which sets both servers up.
 */
public final class ReadVsNginx {

    /** One load target of the comparison. */
    record Target(String name, int port, List<String> paths, String accept, List<Long> pids) {}

    private ReadVsNginx() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String host = "127.0.0.1";
        Endpoint base = Endpoint.of(host, a.integer("tresor-port", 0), a.path("cert"), a.path("key"), a.path("ca"),
                a.string("protocol", "TLSv1.3"), a.string("cipher", "TLS_AES_128_GCM_SHA256"));
        int secrets = a.integer("secrets", 100);
        String prefix = a.string("prefix", "/v1/secrets/bench/s-");
        List<String> secretPaths = new ArrayList<>();
        for (int i = 0; i < secrets; i++) {
            secretPaths.add(prefix + String.format("%03d", i));
        }
        long tresorPid = a.longValue("tresor-pid", 0);
        List<Target> targets = new ArrayList<>(List.of(
                new Target("nginx", a.integer("nginx-port", 0), List.of(a.string("nginx-path", "/secret.bin")),
                        "application/octet-stream", a.pids("nginx-pids")),
                new Target("tresor-raw", base.port(), secretPaths, "application/octet-stream", List.of(tresorPid)),
                new Target("tresor-json", base.port(), secretPaths, "application/json", List.of(tresorPid))));
        int floorPort = a.integer("floor-port", 0);
        if (floorPort != 0) {
            targets.add(new Target("jetty-floor", floorPort, List.of("/floor"), "application/octet-stream", a.pids("floor-pids")));
        }
        List<Integer> connectionCounts = a.integers("connections", "8,64");
        int reps = a.integer("reps", 5);
        Duration window = a.seconds("window", 10);
        Duration runWarmup = a.seconds("run-warmup", 2);
        Duration jitChunk = a.seconds("jit-chunk", 10);
        Duration jitMax = a.seconds("jit-max", 420);
        long maxRequests = a.longValue("max-requests", 5_000_000);
        Path out = Path.of(a.string("out", "bench/results"));
        String extra = a.string("notes", "");
        a.checkAllUsed();
        Files.createDirectories(out);

        Reports.Machine before = Reports.Machine.describe();
        System.out.println("machine: " + before.markdown());

        // 1. Warm the JVMs (the server's JIT, and this load generator's) until the server's JIT is quiet.
        JitQuiet jit = new JitQuiet(tresorPid);
        long warmStart = System.nanoTime();
        jit.sample(0);
        run(base, targets.get(0), 8, Duration.ZERO, jitChunk, maxRequests);
        if (targets.size() > 3) {
            run(base, targets.get(3), 64, Duration.ZERO, jitChunk.multipliedBy(3), maxRequests);
        }
        boolean quiet = false;
        int chunk = 0;
        while ((System.nanoTime() - warmStart) < jitMax.toNanos()) {
            Target t = targets.get(1 + (chunk % 2));
            int conns = connectionCounts.get((chunk / 2) % connectionCounts.size());
            LoadResult r = run(base, t, conns, Duration.ZERO, jitChunk, maxRequests);
            jit.sample((System.nanoTime() - warmStart) / 1e9);
            System.out.printf(Locale.ROOT, "warm-up %3.0fs: %s conns=%d %.0f req/s, JIT compiled %d%n",
                    (System.nanoTime() - warmStart) / 1e9, t.name(), conns, r.requestsPerSecond(), jit.samples().getLast().compiled());
            chunk++;
            if (chunk >= 4 && jit.quiet(2)) {
                quiet = true;
                break;
            }
        }
        System.out.println(quiet ? "JIT quiet: no method compiled in the last two warm-up chunks"
                : "JIT NOT quiet after " + jitMax.toSeconds() + " s; measuring anyway (noted in the results)");

        // 2. Interleaved repetitions; the target order rotates per repetition.
        List<LoadResult> results = new ArrayList<>();
        Path raw = out.resolve("read-vs-nginx.jsonl");
        Files.deleteIfExists(raw);
        for (int rep = 0; rep < reps; rep++) {
            for (int conns : connectionCounts) {
                for (int k = 0; k < targets.size(); k++) {
                    Target t = targets.get((k + rep) % targets.size());
                    LoadResult r = run(base, t, conns, runWarmup, window, maxRequests);
                    results.add(r);
                    System.out.println("rep " + (rep + 1) + "/" + reps + ": " + r.summary());
                    Files.writeString(raw, Reports.json(r) + "\n", StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                }
            }
        }
        long compiledAfter = jit.compiled();
        Reports.Machine after = Reports.Machine.describe();

        String md = markdown(results, targets, connectionCounts, before, after, jit, quiet, compiledAfter, reps, window,
                runWarmup, extra);
        Files.writeString(out.resolve("read-vs-nginx.md"), md, StandardCharsets.UTF_8);
        BarChart.write(out.resolve("read-vs-nginx.png"), "Secret read (Tresor) vs 64-byte static file (nginx), mTLS keep-alive, "
                + "medians with min–max over " + reps + " runs", panels(results, targets, connectionCounts));
        System.out.println();
        System.out.println(md);
        long errors = results.stream().mapToLong(LoadResult::errors).sum();
        System.exit(errors == 0 ? 0 : 1);
    }

    private static LoadResult run(Endpoint base, Target t, int conns, Duration warmup, Duration window, long max)
            throws InterruptedException {
        // JVM targets: each run opens fresh connections, whose TLS handshakes deoptimise and
        // recompile the hot TLS path (seen with -XX:+PrintCompilation: ~50 methods, ~8 s of C2 work
        // on these 2 cores); the window waits until the JIT is quiet, as the first warm-up did.
        java.util.function.BooleanSupplier settle = warmup.isZero() || t.name().equals("nginx")
                ? null : new JitQuiet(t.pids().getFirst()).settleCheck();
        LoadGenerator.Spec spec = new LoadGenerator.Spec(t.name(), base.withPort(t.port()), RequestPlan.gets(t.paths(), t.accept()),
                conns, warmup, window, max, t.pids(), LoadGenerator.Spec.success(), settle);
        return LoadGenerator.run(spec);
    }

    private static List<LoadResult> of(List<LoadResult> all, String target, int conns) {
        return all.stream().filter(r -> r.label().equals(target) && r.connections() == conns).toList();
    }

    private static String markdown(List<LoadResult> results, List<Target> targets, List<Integer> conns,
                                   Reports.Machine before, Reports.Machine after, JitQuiet jit, boolean quiet,
                                   long compiledAfter, int reps, Duration window, Duration runWarmup, String notes) {
        StringBuilder md = new StringBuilder();
        md.append("# Read benchmark: Tresor vs nginx (mTLS, keep-alive, loopback)\n\n");
        md.append("Made by `bench/read-vs-nginx.sh`. Machine at start: ").append(before.markdown()).append(".  \nAt end: load average ")
                .append(String.format(Locale.ROOT, "%.2f / %.2f / %.2f", after.load1(), after.load5(), after.load15()))
                .append(" at ").append(after.at()).append(".\n\n");
        md.append("The load generator (`dev.tresor.bench.LoadGenerator`: raw HTTP/1.1 over `SSLSocket`, closed loop) runs on the "
                + "same 2 cores as the server. Each cell: ").append(reps).append(" interleaved runs of a ")
                .append(window.toSeconds()).append(" s window after ").append(runWarmup.toSeconds())
                .append(" s of warm-up on the open connections; for the JVM targets (Tresor, Jetty floor) the window then "
                        + "waits, under the same load, until the JVM's JIT compiled nothing for a second (at most "
                        + LoadGenerator.MAX_SETTLE.toSeconds() + " s): each run opens fresh connections, and their TLS "
                        + "handshakes make HotSpot deoptimise and recompile the hot TLS path for several seconds. "
                        + "Median (min–max). Latency in µs; CPU = user+system time of "
                        + "the server processes (nginx: master and workers; Tresor: its JVM) in the window, from /proc, per "
                        + "answered request.\n\n");
        md.append("Targets: **nginx** serves a 64-byte static file (`ssl_verify_client on`, access log off); **tresor-raw** is "
                + "`GET /v1/secrets/bench/s-NNN` with `Accept: application/octet-stream` over 100 secrets of 64 bytes granted "
                + "to the reader; **tresor-json** the same with the JSON answer; **jetty-floor** (when present) is Jetty with "
                + "the API connector's exact set-up (same TLS context, client certificate required, virtual threads) answering "
                + "a fixed 64-byte body with no Tresor logic: the transport floor of a Tresor read. Same server certificate "
                + "(P-256), same client certificate, same CA.\n\n");
        for (Target t : targets) {
            results.stream().filter(r -> r.label().equals(t.name())).findFirst().ifPresent(r -> md.append("- negotiated by ")
                    .append(t.name()).append(": ").append(r.protocol()).append(", ").append(r.cipherSuite()).append("\n"));
        }
        List<LoadResult> jvmRuns = results.stream().filter(r -> !r.label().equals("nginx")).toList();
        md.append(String.format(Locale.ROOT, "\nJIT settling before the JVM windows: median %.0f s (%.0f–%.0f s); windows that "
                        + "started at the %d s limit without a quiet JIT: %d of %d.%n",
                Reports.Spread.of(jvmRuns, LoadResult::settleSeconds).median(), Reports.Spread.of(jvmRuns, LoadResult::settleSeconds).min(),
                Reports.Spread.of(jvmRuns, LoadResult::settleSeconds).max(), LoadGenerator.MAX_SETTLE.toSeconds(),
                jvmRuns.stream().filter(r -> !r.settled()).count(), jvmRuns.size()));
        md.append("\nJIT warm-up of the Tresor JVM (`sun.ci.totalCompiles` as `jstat -compiler` shows it, compilations): ");
        for (JitQuiet.Sample s : jit.samples()) {
            md.append(String.format(Locale.ROOT, "%.0fs:%d ", s.atSeconds(), s.compiled()));
        }
        md.append(quiet ? "→ quiet (no change over the last two chunks)." : "→ **not quiet** at the cap; measured anyway.");
        md.append(" After all measured runs: ").append(compiledAfter).append(".\n\n");
        for (int c : conns) {
            md.append("## ").append(c).append(" connections\n\n");
            md.append("| target | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | server CPU µs/req | load generator CPU µs/req | errors |\n");
            md.append("|---|---|---|---|---|---|---|---|---|\n");
            for (Target t : targets) {
                List<LoadResult> rs = of(results, t.name(), c);
                md.append("| ").append(t.name()).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p50).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p90).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p99).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::p999).format("%.0f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).format("%.1f")).append(" | ")
                        .append(Reports.Spread.of(rs, LoadResult::clientCpuMicrosPerRequest).format("%.1f")).append(" | ")
                        .append(rs.stream().mapToLong(LoadResult::errors).sum()).append(" |\n");
            }
            md.append("\n");
        }
        md.append("## Tresor / nginx ratios (of the medians) against the goals of issue 5\n\n");
        md.append("| connections | target | throughput (goal ≥ 0.6) | p99 (goal ≤ 2 at 64) | CPU per request (goal ≤ 3) |\n");
        md.append("|---|---|---|---|---|\n");
        for (int c : conns) {
            List<LoadResult> nginx = of(results, "nginx", c);
            for (Target target : targets.subList(1, targets.size())) {
                String tr = target.name();
                List<LoadResult> rs = of(results, tr, c);
                double thr = Reports.Spread.of(rs, LoadResult::requestsPerSecond).median()
                        / Reports.Spread.of(nginx, LoadResult::requestsPerSecond).median();
                double p99 = Reports.Spread.of(rs, LoadResult::p99).median() / Reports.Spread.of(nginx, LoadResult::p99).median();
                double cpu = Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).median()
                        / Reports.Spread.of(nginx, LoadResult::serverCpuMicrosPerRequest).median();
                md.append("| ").append(c).append(" | ").append(tr).append(" | ")
                        .append(verdict(thr, thr >= 0.6)).append(" | ")
                        .append(c == 64 ? verdict(p99, p99 <= 2) : Reports.fmt("%.2f", p99)).append(" | ")
                        .append(verdict(cpu, cpu <= 3)).append(" |\n");
            }
        }
        long errors = results.stream().mapToLong(LoadResult::errors).sum();
        md.append("\nErrors over all runs (warm-ups included): ").append(errors).append(".\n");
        md.append("Load average during the measured windows: ")
                .append(Reports.Spread.of(results, LoadResult::loadAverage).format("%.2f")).append(" (1-minute, sampled at each window's start).\n");
        if (!notes.isBlank()) {
            md.append("\n").append(notes).append("\n");
        }
        md.append("\nRaw runs: `read-vs-nginx.jsonl`; plot: `read-vs-nginx.png`.\n");
        return md.toString();
    }

    private static String verdict(double ratio, boolean met) {
        return Reports.fmt("%.2f", ratio) + (met ? " ✓" : " ✗");
    }

    private static List<BarChart.Panel> panels(List<LoadResult> results, List<Target> targets, List<Integer> conns) {
        List<BarChart.Panel> panels = new ArrayList<>();
        record Figure(String title, String unit, java.util.function.ToDoubleFunction<LoadResult> f) {}
        for (Figure fig : List.of(new Figure("Throughput", "req/s", LoadResult::requestsPerSecond),
                new Figure("p99 latency", "µs", LoadResult::p99),
                new Figure("Server CPU per request", "µs", LoadResult::serverCpuMicrosPerRequest))) {
            List<BarChart.Group> groups = new ArrayList<>();
            for (int c : conns) {
                List<BarChart.Bar> bars = new ArrayList<>();
                for (Target t : targets) {
                    bars.add(new BarChart.Bar(t.name(), Reports.Spread.of(of(results, t.name(), c), fig.f())));
                }
                groups.add(new BarChart.Group(c + " connections", bars));
            }
            panels.add(new BarChart.Panel(fig.title(), fig.unit(), groups));
        }
        return panels;
    }
}
