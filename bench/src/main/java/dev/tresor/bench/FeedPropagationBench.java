package dev.tresor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.bootstrap.DataFolder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Change-feed propagation: from sending {@code PUT} of a new version to a watcher holding the
 * answer of its {@code GET /v1/watch} that names that version, with 1, 100 and 1,000 watchers
 * (each its own mTLS keep-alive connection and virtual thread, all in this process, as a reader
 * client that may read the secret) against a real {@code tresor server} process on a
 * {@code tresor init} SQLite folder. Writes {@code feed-propagation.md}.
 */
public final class FeedPropagationBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FeedPropagationBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        int writes = a.integer("writes", 30);
        String counts = a.string("watchers", "1,100,1000");
        Path out = Path.of(a.string("out", "bench/results"));
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
        String target = BulkLoad.name(7);

        Map<Integer, long[]> latencies = new LinkedHashMap<>();
        Map<Integer, Long> rssKiB = new LinkedHashMap<>();
        try (ServerProcess server = ServerProcess.start(root, folder.config(), sf.managementPort(),
                folder.dir().resolve("server.log"), List.of())) {
            Endpoint readerEp = data.endpoint(reader, sf.apiPort());
            Endpoint adminEp = data.endpoint(data.admin(), sf.apiPort());
            try (HttpConnection writer = HttpConnection.open(adminEp, 30_000)) {
                for (String c : counts.split(",")) {
                    int n = Integer.parseInt(c.trim());
                    latencies.put(n, run(n, writes, readerEp, writer, target, sf.managementPort()));
                    rssKiB.put(n, rss(server.pid()));
                    System.out.printf(Locale.ROOT, "%5d watchers: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)%n", n,
                            percentile(latencies.get(n), 50) / 1e6, percentile(latencies.get(n), 99) / 1e6,
                            percentile(latencies.get(n), 100) / 1e6, latencies.get(n).length);
                }
            }
        }

        StringBuilder md = new StringBuilder("# Change feed: PUT of a new version → every watcher has it\n\n");
        md.append("Made by `bench/feed-propagation.sh`. Machine at start: ").append(machine.markdown()).append(".\n\n");
        md.append("`tresor server` (own process) on a `tresor init` SQLite folder. N watchers in the bench process, each"
                + " its own mTLS keep-alive connection (raw HTTP/1.1 over SSLSocket) and virtual thread, long-polling"
                + " `GET /v1/watch?since=…&wait=30s` as a non-admin reader client. One writer (admin, its own connection)"
                + " sends `PUT` of a new version of one secret the reader may read, ").append(writes)
                .append(" times per N, and waits until every watcher has an answer naming that version before the next."
                + " Latency = from just before the PUT is written to the socket to the moment a watcher has parsed the"
                + " answer; it includes the PUT itself (durable commit, audit record). All samples of all watchers.\n\n");
        md.append("| watchers | samples | p50 ms | p99 ms | max ms | server RSS MiB after |\n|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<Integer, long[]> e : latencies.entrySet()) {
            long[] l = e.getValue();
            md.append(String.format(Locale.ROOT, "| %d | %d | %.1f | %.1f | %.1f | %.0f |%n", e.getKey(), l.length,
                    percentile(l, 50) / 1e6, percentile(l, 99) / 1e6, percentile(l, 100) / 1e6, rssKiB.get(e.getKey()) / 1024.0));
        }
        md.append("\nGoal (issue 15): p99 ≤ 1 s at 1,000 watchers. The watchers and the server share the machine's two"
                + " cores, so at 1,000 the bench's own TLS reads and JSON parsing are in the figure too.\n");
        Files.writeString(out.resolve("feed-propagation.md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
    }

    /** One N: opens N watchers, makes {@code writes} versions, returns every watcher's latency for each. */
    private static long[] run(int n, int writes, Endpoint readerEp, HttpConnection writer, String target, int managementPort)
            throws Exception {
        String cursor;
        try (HttpConnection first = HttpConnection.open(readerEp, 60_000)) {
            cursor = body(first.exchange(HttpConnection.request("GET", "/v1/watch", "application/json", null, null), true))
                    .get("cursor").asText();
        }
        // version -> arrivals (nanoTime) of each watcher's answer naming it
        Map<Integer, Arrivals> arrivals = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        CountDownLatch connected = new CountDownLatch(n);
        AtomicInteger failures = new AtomicInteger();
        List<long[]> samples = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             ExecutorService connecting = Executors.newFixedThreadPool(2)) {
            for (int w = 0; w < n; w++) {
                String since = cursor;
                threads.submit(() -> {
                    HttpConnection c;
                    try {
                        c = connecting.submit(() -> HttpConnection.open(readerEp, 60_000)).get();
                    } catch (Exception e) {
                        failures.incrementAndGet();
                        connected.countDown();
                        return null;
                    }
                    connected.countDown();
                    try (c) {
                        String at = since;
                        while (!stop.get()) {
                            JsonNode b = body(c.exchange(HttpConnection.request("GET", "/v1/watch?since=" + at + "&wait=30s",
                                    "application/json", null, null), true));
                            long now = System.nanoTime();
                            for (JsonNode change : b.get("changes")) {
                                if (change.get("secret").asText().equals(target) && change.has("version")) {
                                    arrivals.computeIfAbsent(change.get("version").asInt(), k -> new Arrivals(n)).add(now);
                                }
                            }
                            at = b.get("cursor").asText();
                        }
                    } catch (Exception e) {
                        if (!stop.get()) {
                            failures.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            connected.await();
            awaitWaiting(managementPort, n - failures.get());
            for (int i = 0; i < writes; i++) {
                byte[] put = ("{\"value\":\"v-" + n + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8);
                long sent = System.nanoTime();
                JsonNode meta = body(writer.exchange(HttpConnection.request("PUT", "/v1/secrets/" + target, "application/json",
                        "application/json", put), true));
                int version = meta.get("version").asInt();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                Arrivals got = arrivals.computeIfAbsent(version, k -> new Arrivals(n));
                while (got.count() < n - failures.get() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                long[] lat = got.since(sent);
                if (lat.length < n - failures.get()) {
                    System.out.printf("version %d: only %d of %d watchers had it within 30 s%n", version, lat.length, n);
                }
                samples.add(lat);
                Thread.sleep(200);
            }
            stop.set(true);
            // Watchers return with the next change or at their wait's end; one last write ends them at once.
            writer.exchange(HttpConnection.request("PUT", "/v1/secrets/" + target, "application/json", "application/json",
                    "{\"value\":\"end\"}".getBytes(StandardCharsets.UTF_8)), true);
            connecting.shutdown();
        }
        if (failures.get() > 0) {
            System.out.println(failures.get() + " watchers failed (connection or read errors)");
        }
        return samples.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    }

    /** When each watcher had one version: a slot is claimed, filled, then counted, so a counted slot is filled. */
    private static final class Arrivals {
        private final AtomicInteger claimed = new AtomicInteger();
        private final AtomicInteger filled = new AtomicInteger();
        private final java.util.concurrent.atomic.AtomicLongArray at;

        Arrivals(int n) {
            at = new java.util.concurrent.atomic.AtomicLongArray(n);
        }

        void add(long nanos) {
            int i = claimed.getAndIncrement();
            if (i < at.length()) {
                at.set(i, nanos);
                filled.incrementAndGet();
            }
        }

        int count() {
            return filled.get();
        }

        long[] since(long sent) {
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < at.length(); i++) {
                if (at.get(i) != 0) {
                    out.add(at.get(i) - sent);
                }
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }
    }

    /** Until the server's tresor_watch_waiting gauge shows {@code n} watchers parked (deadline 120 s). */
    private static void awaitWaiting(int managementPort, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpRequest scrape = java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + managementPort + "/metrics")).build();
            while (System.nanoTime() < deadline) {
                String metrics = http.send(scrape, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                for (String line : metrics.split("\n")) {
                    if (line.startsWith("tresor_watch_waiting ") && Double.parseDouble(line.substring(line.indexOf(' ') + 1)) >= n) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("never saw " + n + " watchers waiting on the server");
    }

    private static JsonNode body(HttpConnection.Response r) throws java.io.IOException {
        if (r.status() / 100 != 2) {
            throw new IllegalStateException("HTTP " + r.status() + ": " + new String(r.body(), 0, r.bodyLength(), StandardCharsets.UTF_8));
        }
        return JSON.readTree(r.body(), 0, r.bodyLength());
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static long rss(long pid) throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
