package dev.tresor.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.ServerFixture;
import dev.tresor.server.ServerFixture.StoreKind;
import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/watch} over real mutual TLS on a real server: the wire format, a woken watcher,
 * errors for bad parameters and stale cursors, names a watcher may not learn, a restart in the
 * middle of a watch, and a thousand idle watchers costing no platform thread each.
 */
class WatchApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String TD = ServerFixture.TRUST_DOMAIN;

    private static ServerFixture f;
    private static Path dir;

    private IssuedCert admin;
    private String ns;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("tresor-watch-");
        f = ServerFixture.start(dir, StoreKind.SQLITE);
    }

    @AfterAll
    static void stop() throws IOException {
        if (f != null) {
            f.close();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @BeforeEach
    void names() {
        admin = f.admin();
        ns = "w" + COUNTER.incrementAndGet();
    }

    private static JsonNode json(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError(r.body(), e);
        }
    }

    private String cursor(IssuedCert who) {
        return json(f.call(who, "GET", "/v1/watch", null), 200).get("cursor").asText();
    }

    private void put(String name, String value, String group) {
        String groups = group == null ? "" : ",\"groups\":[\"" + group + "\"]";
        HttpResponse<String> r = f.call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"" + value + "\"" + groups + "}");
        assertEquals(2, r.statusCode() / 100, r.body());
    }

    private String group(String suffix) {
        String name = ns + "-" + suffix;
        json(f.call(admin, "POST", "/v1/groups", "{\"name\":\"" + name + "\"}"), 201);
        return name;
    }

    private IssuedCert client(String suffix, String group) {
        String name = ns + "-" + suffix;
        String identity = "spiffe://" + TD + "/ns/" + ns + "/sa/" + suffix;
        json(f.call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}"), 201);
        json(f.call(admin, "PUT", "/v1/groups/" + group + "/clients/" + name, "{\"role\":\"read\"}"), 200);
        return f.pki().client(identity);
    }

    @Test
    void withoutSinceTheCursorComesAtOnceAndAWriteWakesTheWatcherWithoutItsValue() throws Exception {
        JsonNode start = json(f.call(admin, "GET", "/v1/watch", null), 200);
        assertEquals(0, start.get("changes").size());
        assertFalse(start.get("more").asBoolean());
        String since = start.get("cursor").asText();

        CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(
                () -> f.call(admin, "GET", "/v1/watch?since=" + since + "&wait=25s", null));
        put(ns + "/db", "s3cr3t-value-" + ns, null);
        HttpResponse<String> answer = waiting.get(60, TimeUnit.SECONDS);
        JsonNode body = json(answer, 200);
        assertEquals(1, body.get("changes").size(), "an answer that ended with the wait would be empty: " + answer.body());
        JsonNode change = body.get("changes").get(0);
        assertEquals("version", change.get("kind").asText());
        assertEquals(ns + "/db", change.get("secret").asText());
        assertEquals(1, change.get("version").asInt());
        assertTrue(change.get("seq").isTextual() && change.get("at").isTextual(), answer.body());
        assertFalse(answer.body().contains("s3cr3t"), "a change never carries the value");
        assertEquals(change.get("seq").asText(), body.get("cursor").asText());

        JsonNode quiet = json(f.call(admin, "GET", "/v1/watch?since=" + body.get("cursor").asText() + "&wait=0s", null), 200);
        assertEquals(0, quiet.get("changes").size());
        assertEquals(body.get("cursor").asText(), quiet.get("cursor").asText(), "nothing new: the same cursor");
    }

    @Test
    void badParametersAre400AndAStaleCursorIs410SayingReList() {
        for (String bad : List.of("since=abc", "since=-1", "since=", "since=99999999999999999999", "since=1&wait=forever",
                "since=1&wait=-5s")) {
            JsonNode err = json(f.call(admin, "GET", "/v1/watch?" + bad, null), 400);
            assertTrue(err.get("error").asText().matches(".*(since|wait).*"), bad + ": " + err);
        }
        long head = Long.parseLong(cursor(admin));
        JsonNode gone = json(f.call(admin, "GET", "/v1/watch?since=" + (head + 100) + "&wait=0s", null), 410);
        assertTrue(gone.get("error").asText().contains("re-list"), gone.toString());
        assertEquals(405, f.call(admin, "POST", "/v1/watch", "{}").statusCode());
    }

    @Test
    void aWatcherNeverLearnsTheNameOfASecretItCannotRead() {
        String mine = group("mine");
        String theirs = group("theirs");
        IssuedCert reader = client("reader", mine);
        String since = cursor(reader);
        put(ns + "/forbidden-name", "x", theirs);
        put(ns + "/allowed-name", "x", mine);
        json(f.call(admin, "POST", "/v1/secrets/" + ns + "/forbidden-name/labels", "{\"label\":\"stable\",\"version\":1}"), 200);
        json(f.call(admin, "DELETE", "/v1/secrets/" + ns + "/forbidden-name", null), 200);
        HttpResponse<String> seen = f.call(reader, "GET", "/v1/watch?since=" + since + "&wait=0s", null);
        JsonNode body = json(seen, 200);
        assertFalse(seen.body().contains("forbidden-name"), seen.body());
        assertEquals(1, body.get("changes").size(), seen.body());
        assertEquals(ns + "/allowed-name", body.get("changes").get(0).get("secret").asText());

        // Granted now: told once, and from then on its changes show.
        String afterFirst = body.get("cursor").asText();
        json(f.call(admin, "PUT", "/v1/groups/" + mine + "/secrets/" + ns + "/forbidden-name", null), 200);
        JsonNode granted = json(f.call(reader, "GET", "/v1/watch?since=" + afterFirst + "&wait=0s", null), 200);
        assertEquals("granted", granted.get("changes").get(0).get("kind").asText(), granted.toString());
    }

    @Test
    void aCursorOutlivesARestartInTheMiddleOfAWatch() throws Exception {
        String since = cursor(admin);
        CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return f.call(admin, "GET", "/v1/watch?since=" + since + "&wait=40s", null).statusCode();
            } catch (RuntimeException e) {
                return -1; // the connection was closed by the stop: the client watches again
            }
        });
        awaitWaiting(1, () -> "");
        f.stopServer();
        int status = waiting.get(60, TimeUnit.SECONDS);
        assertTrue(status == 200 || status == -1, "a stopping server answers its watchers or closes, got " + status);
        f.startServer();
        put(ns + "/after-restart", "x", null);
        JsonNode body = json(f.call(admin, "GET", "/v1/watch?since=" + since + "&wait=0s", null), 200);
        assertEquals(ns + "/after-restart", body.get("changes").get(body.get("changes").size() - 1).get("secret").asText());
    }

    @Test
    void aThousandIdleWatchersCostNoThreadEachAndAllAreWoken() throws Exception {
        int watchers = 1000;
        String since = cursor(admin);
        var threads = ManagementFactory.getThreadMXBean();
        System.gc();
        long heapBefore = usedHeap();
        int platformThreadsBefore = threads.getThreadCount();
        List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
        // The client side on virtual threads too (HttpClient's default executor is a cached pool).
        try (var clientThreads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
             HttpClient client = HttpClient.newBuilder().sslContext(f.sslContext(admin)).executor(clientThreads)
                .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(60)).build()) {
            for (int i = 0; i < watchers; i++) {
                answers.add(watchUntilChanged(client, since));
            }
            awaitWaiting(watchers, () -> {
                long failed = answers.stream().filter(CompletableFuture::isCompletedExceptionally).count();
                long done = answers.stream().filter(CompletableFuture::isDone).count();
                String first = answers.stream().filter(CompletableFuture::isDone).findFirst()
                        .map(a -> a.handle((r, e) -> e != null ? e.toString() : r.toString()).join())
                        .orElse("none done");
                return done + " answered, " + failed + " failed; first: " + first;
            });
            System.gc();
            long heapGrowth = usedHeap() - heapBefore;
            int threadGrowth = threads.getThreadCount() - platformThreadsBefore;
            // Client and server share this JVM: the growth covers both sides' 1,000 TLS connections.
            assertTrue(heapGrowth < 192L * 1024 * 1024, "heap grew by " + heapGrowth / (1024 * 1024) + " MiB");
            // Jetty's pools may grow to their fixed maximum (64 + 16) under the handshakes; not by watcher.
            assertTrue(threadGrowth < 100, "platform threads grew by " + threadGrowth + " for " + watchers + " watchers");

            put(ns + "/wake-all", "x", null);
            int woken = 0;
            for (CompletableFuture<JsonNode> answer : answers) {
                JsonNode body = answer.get(90, TimeUnit.SECONDS);
                if (body.get("changes").size() == 1
                        && body.get("changes").get(0).get("secret").asText().equals(ns + "/wake-all")) {
                    woken++;
                }
            }
            assertEquals(watchers, woken, "every watcher was answered with the change, none by its wait ending");
        }
    }

    /**
     * Watches as a client does: an empty answer (its wait ended) is followed by the next watch on
     * the same kept-alive connection, until an answer carries a change.
     */
    private static CompletableFuture<JsonNode> watchUntilChanged(HttpClient client, String since) {
        HttpRequest request = HttpRequest.newBuilder(f.api("/v1/watch?since=" + since + "&wait=50s"))
                .timeout(Duration.ofSeconds(120)).GET().build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
            JsonNode body = json(r, 200);
            return body.get("changes").isEmpty() ? watchUntilChanged(client, body.get("cursor").asText())
                    : CompletableFuture.completedFuture(body);
        });
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Polls the management port's gauge until {@code n} watchers wait on the server. */
    private static void awaitWaiting(int n, java.util.function.Supplier<String> diagnosis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        String last = "";
        while (System.nanoTime() < deadline) {
            String metrics = f.management("GET", "/metrics").body();
            for (String line : metrics.split("\n")) {
                if (line.startsWith("tresor_watch_waiting ")) {
                    last = line;
                    if (Double.parseDouble(line.substring(line.indexOf(' ') + 1)) >= n) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("never saw " + n + " watchers waiting; last: " + last + "; " + diagnosis.get());
    }
}
