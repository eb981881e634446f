package dev.tresor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.bootstrap.DataFolder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code tresor key rotate --keyring} on a real {@code tresor server} at store sizes of 100k and
 * 1M versions (issue 16), and what it does to reads: one SQLite store grows step by step
 * ({@link BulkLoad}, in-process while the server is stopped, as {@code bench/scale.sh} loads);
 * at each size a server starts, reads are warmed up, then read windows run back to back before,
 * during and after a rotation started through the API ({@code POST /v1/keys/rotate
 * {"keyring":true}}, the server's own background job with its shipped batch and pause). Every
 * window has the same shape (fresh connections, the same warm-up), so "before" and "during"
 * differ only by the rotation; a window counts as "during" only if it ended before the status
 * said done. Meanwhile {@code GET /v1/keys/status} is polled (progress, the moment it is done)
 * and a light writer puts a new version every few hundred ms (its latency before and during).
 *
 * <p>A size whose load would take longer than {@code --max-load-minutes} at the load rate measured
 * so far is not run, and the report says so with the rate: a million puts, each its own durable
 * transaction, is dominated by commits on this machine.
 */
public final class RotationScaleBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One status poll: seconds since the rotation's POST was answered. */
    record Poll(double at, String phase, long rewrapped, long remaining) {}

    /** One write: when it started (nanoseconds; in a {@link Step}, relative to the POST's answer), how long it took, its status. */
    record Write(long startNanos, double millis, int status) {}

    /** A read window and where it lies against the rotation (seconds since the POST's answer). */
    record Window(String phase, double start, double end, LoadResult result) {}

    /** One size: how it was loaded, the rotation, and the windows. */
    record Step(int secrets, long loadedNow, double loadSeconds, double startupSeconds, long toRewrap, long rewrapped,
                long unreadable, double rotationSeconds, String finalPhase, String problem, List<Window> windows,
                List<Write> writes, Map<String, Long> dataKeysAfter, List<Poll> polls) {}

    /** A size not run, and why. */
    record Skipped(int secrets, String why) {}

    private RotationScaleBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        List<Integer> sizes = a.integers("sizes", "100000,1000000");
        int connections = a.integer("connections", 8);
        Duration window = a.seconds("window", 5);
        Duration warm = a.seconds("jit-warmup", 30);
        int before = a.integer("before-windows", 4);
        int after = a.integer("after-windows", 3);
        int loadThreads = a.integer("load-threads", 2);
        int writerPauseMs = a.integer("writer-pause-ms", 200);
        double maxLoadMinutes = Double.parseDouble(a.string("max-load-minutes", "20"));
        Path out = Path.of(a.string("out", "bench/results"));
        a.checkAllUsed();
        Files.createDirectories(out);
        Reports.Machine atStart = Reports.Machine.describe();
        System.out.println("machine: " + atStart.markdown());
        Path raw = out.resolve("keyring-rotation-scale.jsonl");
        Files.deleteIfExists(raw);

        StoreFolder sf = StoreFolder.create(work.resolve("store"), "sqlite");
        DataFolder folder = sf.folder();
        DataDir data = sf.data();
        StoreFolder.BenchClients clients = sf.issueBenchClients();
        DataDir.Credentials reader = clients.reader();
        DataDir.Credentials lister = clients.lister();
        DataDir.Credentials admin = clients.admin();
        List<Step> steps = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        int loaded = 0;
        double ratePerSecond = Double.NaN;
        for (int size : sizes) {
            if (!Double.isNaN(ratePerSecond) && (size - loaded) / ratePerSecond / 60 > maxLoadMinutes) {
                String why = String.format(Locale.ROOT, "not run: loading %,d more secrets at the %.0f/s measured here"
                        + " would take %.0f min (limit %.0f min)", size - loaded, ratePerSecond,
                        (size - loaded) / ratePerSecond / 60, maxLoadMinutes);
                System.out.println(size + ": " + why);
                skipped.add(new Skipped(size, why));
                write(out, steps, skipped, atStart, connections, window, warm, writerPauseMs);
                continue;
            }
            long t0 = System.nanoTime();
            int from = loaded;
            try (BulkLoad load = new BulkLoad(folder.config(), sf.admin().identity())) {
                if (from == 0) {
                    load.setUp(reader.identity(), lister.identity());
                }
                load.put(from, size, loadThreads, i -> {
                    if ((i + 1) % 20_000 == 0) {
                        System.out.printf(Locale.ROOT, "%,d secrets loaded (%.0f/s)%n", i + 1,
                                (i + 1 - from) / ((System.nanoTime() - t0) / 1e9));
                    }
                });
            }
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            ratePerSecond = (size - from) / loadSeconds;
            System.out.printf(Locale.ROOT, "loaded %,d -> %,d in %.0f s (%.0f/s)%n", from, size, loadSeconds, ratePerSecond);
            loaded = size;
            Step step = rotateUnderLoad(root, sf, data, reader, admin, size, size - from, loadSeconds, connections, window,
                    warm, before, after, writerPauseMs);
            steps.add(step);
            Files.writeString(raw, Reports.json(step) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            // After every size: a long next size that is stopped leaves the finished ones reported.
            write(out, steps, skipped, atStart, connections, window, warm, writerPauseMs);
        }
        System.out.println(Files.readString(out.resolve("keyring-rotation-scale.md")));
    }

    private static void write(Path out, List<Step> steps, List<Skipped> skipped, Reports.Machine atStart, int connections,
                              Duration window, Duration warm, int writerPauseMs) throws java.io.IOException {
        String md = markdown(steps, skipped, atStart, Reports.Machine.describe(), connections, window, warm, writerPauseMs);
        Files.writeString(out.resolve("keyring-rotation-scale.md"), md, StandardCharsets.UTF_8);
    }

    private static Step rotateUnderLoad(Path root, StoreFolder sf, DataDir data, DataDir.Credentials reader,
                                        DataDir.Credentials admin, int size, long loadedNow, double loadSeconds,
                                        int connections, Duration window, Duration warm, int before, int after,
                                        int writerPauseMs) throws Exception {
        Path dir = sf.folder().dir();
        try (ServerProcess server = ServerProcess.start(root, sf.folder().config(), sf.managementPort(),
                dir.resolve("server-" + size + ".log"), List.of())) {
            System.out.printf(Locale.ROOT, "%,d: server ready in %.1f s%n", size, server.startupSeconds());
            List<Long> pids = List.of(server.pid());
            Endpoint ep = data.endpoint(reader, sf.apiPort());
            Endpoint adminEp = data.endpoint(admin, sf.apiPort());
            RequestPlan plan = RequestPlan.gets(ProviderBench.readPaths(), "application/octet-stream");
            LoadGenerator.run(new LoadGenerator.Spec("warm", ep, plan, connections, Duration.ZERO, warm, 100_000_000,
                    pids, LoadGenerator.Spec.success()));
            // Two unmeasured windows of the measured shape: the first fresh connections make
            // HotSpot recompile the TLS path (see README), which should not land in "before".
            for (int i = 0; i < 2; i++) {
                readWindow(ep, plan, connections, window, pids, "settle");
            }

            // Time zero is the rotation's POST answer; it is set when the POST returns.
            AtomicReference<Long> zero = new AtomicReference<>(System.nanoTime());
            List<Poll> polls = Collections.synchronizedList(new ArrayList<>());
            List<Write> writes = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicReference<Double> doneAt = new AtomicReference<>();
            AtomicReference<Boolean> rotating = new AtomicReference<>(false);
            Thread poller = Thread.ofPlatform().name("status-poller").start(() -> {
                try (ApiClient api = new ApiClient(adminEp)) {
                    while (running.get()) {
                        // Read before the GET is sent: a status asked for before the POST (phase idle)
                        // must not count as the rotation's end.
                        boolean afterPost = rotating.get();
                        JsonNode rot = JSON.readTree(api.ok("GET", "/v1/keys/status", null).body()).path("keyringRotation");
                        double at = (System.nanoTime() - zero.get()) / 1e9;
                        Poll p = new Poll(at, rot.path("phase").asText(), rot.path("rewrapped").asLong(),
                                rot.path("remaining").asLong());
                        if (afterPost) {
                            polls.add(p);
                            if (!p.phase().equals("rewrapping") && doneAt.get() == null) {
                                doneAt.set(at);
                            }
                        }
                        Thread.sleep(250);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("status poll failed", e);
                }
            });
            Thread writer = Thread.ofPlatform().name("writer").start(() -> {
                try (ApiClient api = new ApiClient(adminEp)) {
                    while (running.get()) {
                        // A bulk secret (not one of the reader's 100): a new version, as an app's writes would make.
                        int i = 110 + ThreadLocalRandom.current().nextInt(Math.max(1, size - 110));
                        String body = Reports.json(Map.of("value", "w-" + System.nanoTime()));
                        long t = System.nanoTime();
                        ApiClient.Reply r = api.call("PUT", "/v1/secrets/" + BulkLoad.name(i), body);
                        writes.add(new Write(t, (System.nanoTime() - t) / 1e6, r.status()));
                        Thread.sleep(writerPauseMs);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<Window> windows = new ArrayList<>();
            // Before: provisional times (relative to a zero that moves to the POST below).
            List<long[]> beforeSpans = new ArrayList<>();
            List<LoadResult> beforeResults = new ArrayList<>();
            for (int i = 0; i < before; i++) {
                long s = System.nanoTime();
                beforeResults.add(readWindow(ep, plan, connections, window, pids, size + " before " + i));
                beforeSpans.add(new long[] {s, System.nanoTime()});
            }
            JsonNode begun;
            try (ApiClient api = new ApiClient(adminEp)) {
                begun = JSON.readTree(api.ok("POST", "/v1/keys/rotate", "{\"keyring\":true}").body());
            }
            long zeroNanos = System.nanoTime();
            zero.set(zeroNanos);
            rotating.set(true);
            System.out.println(size + ": rotation begun " + begun);
            for (int i = 0; i < before; i++) {
                windows.add(new Window("before", (beforeSpans.get(i)[0] - zeroNanos) / 1e9,
                        (beforeSpans.get(i)[1] - zeroNanos) / 1e9, beforeResults.get(i)));
            }
            // During: windows back to back until the status says the rotation ended.
            int n = 0;
            while (doneAt.get() == null) {
                double s = (System.nanoTime() - zeroNanos) / 1e9;
                LoadResult r = readWindow(ep, plan, connections, window, pids, size + " during " + n++);
                double e = (System.nanoTime() - zeroNanos) / 1e9;
                Double done = doneAt.get();
                windows.add(new Window(done == null || e <= done ? "during" : "straddles the end", s, e, r));
                if (doneAt.get() == null && !poller.isAlive()) {
                    throw new IllegalStateException("the status poller stopped before the rotation ended (see its stack trace)");
                }
                if (e > Duration.ofHours(1).toSeconds()) {
                    throw new IllegalStateException("the rotation did not end within an hour");
                }
            }
            for (int i = 0; i < after; i++) {
                double s = (System.nanoTime() - zeroNanos) / 1e9;
                LoadResult r = readWindow(ep, plan, connections, window, pids, size + " after " + i);
                windows.add(new Window("after", s, (System.nanoTime() - zeroNanos) / 1e9, r));
            }
            running.set(false);
            writer.join();
            poller.join();
            JsonNode status;
            try (ApiClient api = new ApiClient(adminEp)) {
                status = JSON.readTree(api.ok("GET", "/v1/keys/status", null).body());
            }
            JsonNode rot = status.path("keyringRotation");
            Map<String, Long> dataKeys = new java.util.LinkedHashMap<>();
            status.path("dataKeys").properties().forEach(e -> dataKeys.put(e.getKey(), e.getValue().asLong()));
            System.out.println(size + ": status after " + status);
            return new Step(size, loadedNow, loadSeconds, server.startupSeconds(), begun.path("toRewrap").asLong(),
                    rot.path("rewrapped").asLong(), rot.path("unreadable").asLong(), doneAt.get(),
                    rot.path("phase").asText(), rot.hasNonNull("problem") ? rot.path("problem").asText() : null,
                    windows, writes.stream().map(w -> new Write(w.startNanos() - zeroNanos, w.millis(), w.status())).toList(),
                    dataKeys, List.copyOf(polls));
        }
    }

    private static LoadResult readWindow(Endpoint ep, RequestPlan plan, int connections, Duration window, List<Long> pids,
                                         String label) throws InterruptedException {
        LoadResult r = LoadGenerator.run(new LoadGenerator.Spec(label, ep, plan, connections, Duration.ofSeconds(1), window,
                100_000_000, pids, LoadGenerator.Spec.success()));
        System.out.println(r.summary());
        return r;
    }

    private static String markdown(List<Step> steps, List<Skipped> skipped, Reports.Machine atStart,
                                   Reports.Machine atEnd, int connections, Duration window, Duration warm, int writerPauseMs) {
        StringBuilder md = new StringBuilder("# Keyring rotation at scale, and reads during it\n\n");
        md.append("Made by `bench/keyring-rotation-scale.sh` (`RotationScaleBench`). Machine at start: ")
                .append(atStart.markdown()).append(".\nWhen this file was written (after the last size run): load average ")
                .append(String.format(Locale.ROOT, "%.2f / %.2f / %.2f at %s", atEnd.load1(), atEnd.load5(), atEnd.load15(),
                        atEnd.at())).append(".\n\n");
        md.append("One `tresor init` SQLite store grown step by step: secrets of 64 bytes (one version each) put in-process"
                + " through `dev.tresor.Tresor` while the server is stopped (`BulkLoad`, as `bench/scale.sh` loads: one"
                + " durable transaction per put, 2 threads). At each size a real `tresor server` (`bin/tresor`,"
                + " production flags) starts; reads are warmed up for ").append(warm.toSeconds()).append(" s (and two"
                + " unmeasured windows); then read windows run back to back — each ").append(connections)
                .append(" fresh mTLS keep-alive connections, 1 s unmeasured, ").append(window.toSeconds())
                .append(" s measured, `GET` of the reader's 100 secrets as octet-stream — before, during and after a"
                        + " keyring rotation begun with `POST /v1/keys/rotate {\"keyring\":true}` (the server's background"
                        + " job as shipped: batches of 50 data keys, 20 ms pause between batches). A window is \"during\""
                        + " only if it ended before `GET /v1/keys/status` (polled every 250 ms) left `rewrapping`."
                        + " Throughout, one writer puts a new version of a random bulk secret over the API, pausing ")
                .append(writerPauseMs).append(" ms between puts. The rotation's time is from the POST's answer to the"
                        + " first poll that saw it done (±0.25 s); server CPU per read includes the rotation's own CPU"
                        + " during it.\n\n");
        md.append("| versions (secrets) | load /s | start-up s | data keys to re-wrap | re-wrapped | time s | re-wrap /s "
                + "| reads/s before | reads/s during | during / before | reads/s after | p99 µs before / during "
                + "| CPU µs/read before / during | writer p50 ms before / during | writer p99 ms before / during | errors |\n");
        md.append("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|---|---|---|---:|\n");
        List<String> verdicts = new ArrayList<>();
        for (Step s : steps) {
            List<LoadResult> b = phase(s, "before");
            List<LoadResult> d = phase(s, "during");
            List<LoadResult> af = phase(s, "after");
            double ratio = Reports.Spread.of(d, LoadResult::requestsPerSecond).median()
                    / Reports.Spread.of(b, LoadResult::requestsPerSecond).median();
            long errors = s.windows().stream().mapToLong(w -> w.result().errors()).sum()
                    + s.writes().stream().filter(w -> w.status() / 100 != 2).count();
            md.append(String.format(Locale.ROOT, "| %,d | %.0f | %.1f | %,d | %,d | %.1f | %.0f | ", s.secrets(),
                    s.loadedNow() / s.loadSeconds(), s.startupSeconds(), s.toRewrap(), s.rewrapped(), s.rotationSeconds(),
                    s.rewrapped() / s.rotationSeconds()))
                    .append(Reports.Spread.of(b, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(d, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.fmt("%.2f", ratio)).append(" | ")
                    .append(Reports.Spread.of(af, LoadResult::requestsPerSecond).format("%.0f")).append(" | ")
                    .append(Reports.fmt("%.0f", Reports.Spread.of(b, LoadResult::p99).median())).append(" / ")
                    .append(Reports.fmt("%.0f", Reports.Spread.of(d, LoadResult::p99).median())).append(" | ")
                    .append(Reports.fmt("%.1f", Reports.Spread.of(b, LoadResult::serverCpuMicrosPerRequest).median()))
                    .append(" / ")
                    .append(Reports.fmt("%.1f", Reports.Spread.of(d, LoadResult::serverCpuMicrosPerRequest).median()))
                    .append(" | ").append(writer(s, false, 0.50)).append(" / ").append(writer(s, true, 0.50)).append(" | ")
                    .append(writer(s, false, 0.99)).append(" / ").append(writer(s, true, 0.99)).append(" | ")
                    .append(errors).append(" |\n");
            verdicts.add(String.format(Locale.ROOT, "%,d: reads during = %.0f %% of before (%s), %d window(s) during",
                    s.secrets(), 100 * ratio, ratio >= 0.8 ? "≥ 80 % ✓" : "below 80 % ✗", d.size()));
        }
        for (Skipped k : skipped) {
            md.append(String.format(Locale.ROOT, "| %,d | %s |%n", k.secrets(), k.why()));
        }
        md.append("\nGoal (reads during the rotation ≥ 80 % of normal, medians of the windows): ")
                .append(String.join("; ", verdicts)).append(".\n\n");
        for (Step s : steps) {
            md.append(String.format(Locale.ROOT, "%,d: the rotation ended in phase `%s`%s; %,d data key(s) did not unwrap;"
                    + " data keys per keyring key afterwards: %s. Windows (phase, s from the POST, reads/s, load avg): ",
                    s.secrets(), s.finalPhase(), s.problem() == null ? "" : " (" + s.problem() + ")", s.unreadable(),
                    s.dataKeysAfter()));
            List<String> ws = new ArrayList<>();
            for (Window w : s.windows()) {
                ws.add(String.format(Locale.ROOT, "%s %.0f–%.0f %.0f (%.2f)", w.phase(), w.start(), w.end(),
                        w.result().requestsPerSecond(), w.result().loadAverage()));
            }
            md.append(String.join("; ", ws)).append(".\n\n");
        }
        return md.toString();
    }

    private static List<LoadResult> phase(Step s, String phase) {
        return s.windows().stream().filter(w -> w.phase().equals(phase)).map(Window::result).toList();
    }

    /** Writer latency quantile before (started before the POST) or during the rotation; "-" if none. */
    private static String writer(Step s, boolean during, double q) {
        List<Double> ms = new ArrayList<>();
        for (Write w : s.writes()) {
            double at = w.startNanos() / 1e9; // relative to the POST's answer by now
            boolean inRotation = at >= 0 && at <= s.rotationSeconds();
            if (during ? inRotation : at < 0) {
                ms.add(w.millis());
            }
        }
        if (ms.isEmpty()) {
            return "-";
        }
        Collections.sort(ms);
        return Reports.fmt("%.1f", ms.get(Math.min(ms.size() - 1, (int) Math.ceil(q * ms.size()) - 1)));
    }
}
