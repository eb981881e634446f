package dev.tresor.server.crash;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.client.api.ApiReply;
import dev.tresor.client.api.ApiRequest;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real server processes on one PostgreSQL under a mixed load (reads, writes with an
 * Idempotency-Key, grants) from clients that know all three addresses and fail over as
 * TRESOR_ADDR=a,b,c does (issue 17): one node is SIGKILLed and restarted, then another is stopped
 * in order (drained). Every request of the load succeeds (reads included), every acknowledged
 * write is in the store exactly once (a retry after a lost answer is replayed, not applied again),
 * each read returns the value last acknowledged for its secret, every node's audit chain
 * verifies (the killed one's after its torn tail was repaired), and the union of the nodes' audit
 * records names every acknowledged request.
 */
class ThreeNodeFailoverTest {

    private static final int THREADS = 4;

    @TempDir
    Path dir;

    /** An acknowledged request: its request id, what it did, and for a write the version and value. */
    record Ack(String requestId, String action, String secret, int version, String value) {}

    /**
     * The load's client: tresor-client's {@link TresorHttp}, the transport of the CLI with
     * TRESOR_ADDR=a,b,c, so the test checks the failover clients really use. One per start node
     * (the node list rotated), so the load spreads over the three nodes; each then sticks to the
     * node that answered last, as a client does. Every move to another node goes through the
     * backoff, which counts it.
     *
     * <p>Reads and writes with an Idempotency-Key are repeated on the next node by the transport
     * itself. A grant change carries no key, so the transport does not send it again after a cut
     * or a 503 (it cannot know it was not applied); granting or ungranting is idempotent by
     * nature (a repeat answers 200, 404 or 409), so the caller re-sends it, as an operator would,
     * and the test counts those re-sends.
     */
    static final class FailoverClient implements AutoCloseable {
        private final List<TresorHttp> byStart = new ArrayList<>();
        private final AtomicLong resentGrants = new AtomicLong();

        FailoverClient(SSLContext tls, int[] ports, AtomicLong failovers) {
            TresorHttp.Backoff counting = attempt -> {
                failovers.incrementAndGet();
                TresorHttp.Backoff.DOUBLING.pause(attempt);
            };
            for (int start = 0; start < ports.length; start++) {
                List<URI> nodes = new ArrayList<>();
                for (int i = 0; i < ports.length; i++) {
                    nodes.add(URI.create("https://127.0.0.1:" + ports[(start + i) % ports.length]));
                }
                byStart.add(new TresorHttp(new ServerAddresses(nodes), TlsSource.fixed(tls),
                        TresorHttp.Options.defaults("three-node-failover-test")
                                .withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10)).withBackoff(counting)));
            }
        }

        /** {@code path} below {@code /v1/}, e.g. {@code secrets/ha/t0}. */
        CrashRig.Reply send(int preferred, String method, String path, String body, String idempotencyKey) {
            ApiRequest request = body == null ? new ApiRequest(method, path, Map.of(), null, null, null, Map.of(), null)
                    : ApiRequest.of(method, path, body.getBytes(StandardCharsets.UTF_8));
            if (idempotencyKey != null) {
                request = request.withHeader("Idempotency-Key", idempotencyKey);
            }
            return send(preferred, request);
        }

        CrashRig.Reply read(int preferred, String path, Map<String, String> query) {
            return send(preferred, ApiRequest.get(path).withQuery(query));
        }

        private CrashRig.Reply send(int preferred, ApiRequest request) {
            String path = request.path();
            TresorHttp http = byStart.get(preferred % byStart.size());
            boolean grant = path.startsWith("groups/granted/secrets/");
            for (int attempt = 1; ; attempt++) {
                try {
                    ApiReply reply = http.send(request);
                    if (grant && reply.status() == 503 && attempt < 3) {
                        resentGrants.incrementAndGet();
                        continue;
                    }
                    return new CrashRig.Reply(reply.status(), new String(reply.body(), StandardCharsets.UTF_8),
                            reply.requestId());
                } catch (TransportException e) {
                    if (!grant || attempt == 3) {
                        throw e;
                    }
                    resentGrants.incrementAndGet();
                }
            }
        }

        long resentGrants() {
            return resentGrants.get();
        }

        @Override
        public void close() {
            byStart.forEach(TresorHttp::close);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void mixedLoadSeesNoFailedRequestWhileANodeIsKilledAndAnotherDrained() throws Exception {
        PostgresDatabase pg = EmbeddedPostgres.freshDatabase();
        CrashRig rig = new CrashRig(dir, pg);
        int[] ports = new int[3];
        Path[] configs = new Path[3];
        String base = Files.readString(rig.config());
        for (int n = 0; n < 3; n++) {
            ports[n] = freePort();
            configs[n] = dir.resolve("tresor-n" + n + ".yaml");
            Files.writeString(configs[n], base.replace("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:" + ports[n] + "\"")
                    .replace("path: audit.log", "path: audit-n" + n + ".log"));
        }
        Queue<Ack> acks = new ConcurrentLinkedQueue<>();
        AtomicLong failovers = new AtomicLong();
        FailoverClient client = new FailoverClient(rig.sslContext(rig.certificate(CrashRig.ADMIN)), ports, failovers);
        List<TresorProcess> nodes = new ArrayList<>(List.of(
                TresorProcess.start(configs[0], CrashRig.ADMIN, dir.resolve("n0-1.log"))));
        try {
            nodes.add(TresorProcess.start(configs[1], null, dir.resolve("n1-1.log")));
            nodes.add(TresorProcess.start(configs[2], null, dir.resolve("n2-1.log")));
            assertThat(client.send(0, "POST", "groups", "{\"name\":\"load\"}", null).status()).isEqualTo(201);
            assertThat(client.send(0, "POST", "groups", "{\"name\":\"granted\"}", null).status()).isEqualTo(201);
            assertThat(client.send(0, "PUT", "groups/load/clients/admin", "{\"role\":\"write\"}", null).status()).isEqualTo(200);

            Queue<String> errors = new ConcurrentLinkedQueue<>();
            Map<String, String> lastValue = new ConcurrentHashMap<>();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger reads = new AtomicInteger();
            List<Thread> load = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                load.add(Thread.ofPlatform().name("ha-load-" + t).start(() -> {
                    String secret = "ha/t" + id;
                    try {
                        for (int j = 0; running.get(); j++) {
                            int preferred = (id + j) % 3;
                            switch (j % 4) {
                                case 0, 2 -> {
                                    String value = "v-" + id + "-" + j;
                                    String body = j == 0 ? "{\"value\":\"" + value + "\",\"groups\":[\"load\"]}"
                                            : "{\"value\":\"" + value + "\"}";
                                    CrashRig.Reply r = client.send(preferred, "PUT", "secrets/" + secret, body,
                                            UUID.randomUUID().toString());
                                    if (r.status() != 200 && r.status() != 201) {
                                        errors.add("PUT " + secret + ": " + r.status() + " " + r.body());
                                        return;
                                    }
                                    acks.add(new Ack(r.requestId(), "secret.write", secret, r.json().get("version").asInt(), value));
                                    lastValue.put(secret, value);
                                }
                                case 1 -> {
                                    CrashRig.Reply r = client.send(preferred, "GET", "secrets/" + secret, null, null);
                                    if (r.status() != 200) {
                                        errors.add("GET " + secret + ": " + r.status() + " " + r.body());
                                        return;
                                    }
                                    String got = r.json().get("value").asText();
                                    if (!got.equals(lastValue.get(secret))) {
                                        errors.add("GET " + secret + " read " + got + ", the last acknowledged value is "
                                                + lastValue.get(secret));
                                    }
                                    reads.incrementAndGet();
                                    acks.add(new Ack(r.requestId(), "secret.read", secret, 0, null));
                                }
                                default -> {
                                    CrashRig.Reply r = client.send(preferred, (j / 4) % 2 == 0 ? "PUT" : "DELETE",
                                            "groups/granted/secrets/" + secret, null, null);
                                    if (r.status() / 100 != 2 && r.status() != 404 && r.status() != 409) {
                                        errors.add("grant " + secret + ": " + r.status() + " " + r.body());
                                        return;
                                    }
                                    acks.add(new Ack(r.requestId(), "grant", secret, 0, null));
                                }
                            }
                        }
                    } catch (Exception e) {
                        errors.add("thread " + id + ": " + e);
                    }
                }));
            }
            awaitAcks(acks, errors, 60);
            nodes.get(1).kill();
            awaitAcks(acks, errors, acks.size() + 60);
            nodes.set(1, TresorProcess.start(configs[1], null, dir.resolve("n1-2.log")));
            awaitAcks(acks, errors, acks.size() + 60);
            nodes.get(2).stop(); // drains: in-flight requests answered, new connections refused
            awaitAcks(acks, errors, acks.size() + 60);
            running.set(false);
            for (Thread t : load) {
                t.join(TimeUnit.SECONDS.toMillis(90));
            }
            System.out.printf("ThreeNodeFailoverTest: %d acknowledged requests (%d reads), %d fail-overs, %d grant re-sends,"
                    + " %d errors%n", acks.size(), reads.get(), failovers.get(), client.resentGrants(), errors.size());
            assertThat(errors).as("failed requests").isEmpty();
            assertThat(failovers.get()).as("the kill and the drain made clients move on").isPositive();

            // Every acknowledged write once in the store, none applied twice.
            for (int t = 0; t < THREADS; t++) {
                String secret = "ha/t" + t;
                List<Ack> writes = acks.stream().filter(a -> a.action().equals("secret.write") && a.secret().equals(secret)).toList();
                Set<Integer> versions = new HashSet<>();
                writes.forEach(w -> assertThat(versions.add(w.version())).as("version " + w.version() + " acknowledged twice").isTrue());
                CrashRig.Reply listed = client.send(0, "GET", "secrets/" + secret + "/versions", null, null);
                JsonNode stored = listed.json().get("versions");
                assertThat(stored.size()).as(secret + ": versions in the store = acknowledged writes").isEqualTo(writes.size());
                for (Ack w : writes) {
                    CrashRig.Reply r = client.read(0, "secrets/" + secret, Map.of("version", String.valueOf(w.version())));
                    assertThat(r.json().get("value").asText()).isEqualTo(w.value());
                }
            }
        } finally {
            client.close();
            for (TresorProcess node : nodes) {
                try {
                    node.stop();
                } catch (Throwable alreadyDown) {
                    node.close();
                }
            }
        }
        // Every node's chain verifies, and together they name every acknowledged request.
        List<AuditVerifier.NodeChain> chains = AuditVerifier.verifyChains(List.of(dir), rig.kek());
        assertThat(chains).hasSize(3).allSatisfy(c -> assertThat(c.result().ok()).as(c.node() + ": " + c.result().problem()).isTrue());
        Set<String> audited = new HashSet<>();
        for (int n = 0; n < 3; n++) {
            for (String line : Files.readAllLines(dir.resolve("audit-n" + n + ".log"))) {
                JsonNode record = CrashRig.JSON.readTree(line);
                if (record.hasNonNull("requestId")) {
                    audited.add(record.get("requestId").asText());
                }
            }
        }
        List<String> unaudited = acks.stream().map(Ack::requestId).filter(id -> id == null || !audited.contains(id)).toList();
        assertThat(unaudited).as("acknowledged requests missing from every node's audit log").isEmpty();
    }

    private static void awaitAcks(Queue<Ack> acks, Queue<String> errors, int atLeast) {
        dev.tresor.testkit.Await.until(atLeast + " acknowledged requests (or a failed one)", java.time.Duration.ofSeconds(120),
                () -> acks.size() >= atLeast || !errors.isEmpty());
        assertThat(errors).as("failed requests").isEmpty();
        assertThat(acks.size()).as("the load went on").isGreaterThanOrEqualTo(atLeast);
    }
}
