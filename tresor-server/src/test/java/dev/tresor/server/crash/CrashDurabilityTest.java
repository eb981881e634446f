package dev.tresor.server.crash;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.audit.VerificationResult;
import dev.tresor.server.crash.CrashRig.Reply;
import dev.tresor.server.crash.WriteLoad.Ack;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash durability (SPEC §2.5, §4): a server process killed with SIGKILL during concurrent writes
 * loses no write it acknowledged with a 2xx, every acknowledged request has its audit record, and
 * the audit chain still verifies after the restart; the restart records that the previous writer
 * stopped without closing the log, and a torn last line left by a crash is repaired at start-up
 * with the repair itself recorded.
 *
 * <p>The server runs as a real separate JVM ({@link CrashServerMain}); the test is its client over
 * mTLS, as a workload would be. With PostgreSQL the database server stays up; only Tresor dies.
 */
class CrashDurabilityTest {

    private static final int WRITERS = 6;
    /** SIGKILLs per test; each is followed by a restart on the same folder and store. */
    private static final int CRASHES = 2;
    /** Each kill comes after between this many and twice as many acknowledged writes. */
    private static final int MIN_ACKS_PER_CRASH = 120;
    private static final int READ_CONNECTIONS = 4;
    private static final String WRITER = "spiffe://" + CrashRig.TRUST_DOMAIN + "/client/writer";
    private static final String READER = "spiffe://" + CrashRig.TRUST_DOMAIN + "/client/reader";
    private static final String GRANTED_READER = "spiffe://" + CrashRig.TRUST_DOMAIN + "/client/granted-reader";
    private static final String UNCLEAN = "log reopened; the previous writer stopped without closing the log";

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sigkillDuringConcurrentWritesLosesNoAcknowledgedWriteOrAuditRecordOnSqlite() throws Exception {
        crashAndRecover(new CrashRig(dir, null));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sigkillDuringConcurrentWritesLosesNoAcknowledgedWriteOrAuditRecordOnPostgresql() throws Exception {
        crashAndRecover(new CrashRig(dir, EmbeddedPostgres.freshDatabase()));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aTornLastAuditLineLeftByACrashIsRepairedAtStartAndTheRepairRecorded() throws Exception {
        CrashRig rig = new CrashRig(dir, null);
        Queue<Ack> acks = new ConcurrentLinkedQueue<>();
        Clients clients = new Clients(rig);

        try (TresorProcess first = rig.start()) {
            setUp(first.apiPort(), clients, acks);
            for (int i = 0; i < 10; i++) {
                String name = WriteLoad.shared(i % WriteLoad.SHARED_SECRETS);
                String value = "torn-test-" + i;
                Reply r = CrashRig.call(clients.writer, first.apiPort(), "PUT", "/v1/secrets/" + name,
                        "{\"value\":" + CrashRig.quote(value) + "}");
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                acks.add(new Ack("secret.write", name, r.json().get("version").asInt(), value, r.requestId(), r.status()));
            }
            first.kill();
        }

        // The kill came while the server was idle: the log is intact so far.
        VerificationResult killed = AuditVerifier.verify(rig.auditLog(), rig.kek());
        assertThat(killed.ok()).as(killed.problem()).isTrue();
        assertThat(killed.cleanlyClosed()).isFalse();

        // What a SIGKILL in the middle of the writer's write() leaves: the start of the next
        // record (chained to the last one, seq one higher), cut off before its newline.
        List<JsonNode> before = rig.auditRecords();
        JsonNode last = before.getLast();
        long lastSeq = last.get("seq").asLong();
        String torn = "{\"type\":\"event\",\"seq\":" + (lastSeq + 1) + ",\"time\":\"" + last.get("time").asText()
                + "\",\"requestId\":\"0123456789abcdef\",\"client\":\"admin\",\"action\":\"secret.wr";
        Files.writeString(rig.auditLog(), torn, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        VerificationResult tornResult = AuditVerifier.verify(rig.auditLog(), rig.kek());
        assertThat(tornResult.ok()).isFalse();
        assertThat(tornResult.firstBadLine()).isEqualTo(before.size() + 1);
        assertThat(tornResult.problem()).contains("incomplete line");

        String afterValue = "written-after-the-repair";
        String afterRequest;
        try (TresorProcess second = rig.start()) {
            Reply r = CrashRig.call(clients.writer, second.apiPort(), "PUT", "/v1/secrets/" + WriteLoad.shared(0),
                    "{\"value\":" + CrashRig.quote(afterValue) + "}");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            afterRequest = r.requestId();
            acks.add(new Ack("secret.write", WriteLoad.shared(0), r.json().get("version").asInt(), afterValue, r.requestId(), r.status()));
            assertAllReadable(clients, second.apiPort(), List.copyOf(acks));
            second.stop();
        }

        VerificationResult result = AuditVerifier.verify(rig.auditLog(), rig.kek());
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isTrue();
        assertThat(Files.readString(rig.auditLog())).doesNotContain("0123456789abcdef");

        List<JsonNode> records = rig.auditRecords();
        // The intact records are untouched, and the repair record takes the torn line's place.
        for (int i = 0; i < before.size(); i++) {
            assertThat(records.get(i)).isEqualTo(before.get(i));
        }
        JsonNode repair = records.get(before.size());
        assertThat(repair.get("action").asText()).isEqualTo("audit.repair");
        assertThat(repair.get("outcome").asText()).isEqualTo("repaired");
        assertThat(repair.get("seq").asLong()).isEqualTo(lastSeq + 1);
        assertThat(repair.get("prev").asText()).isEqualTo(last.get("mac").asText());
        assertThat(repair.get("detail").asText())
                .startsWith("dropped " + torn.length() + " bytes of an incomplete last line (line " + (before.size() + 1) + ")")
                .contains("seq " + lastSeq + " was the last intact record");
        JsonNode open = records.get(before.size() + 1);
        assertThat(open.get("action").asText()).isEqualTo("audit.open");
        assertThat(open.get("detail").asText()).isEqualTo(UNCLEAN);
        assertThat(records.stream().filter(r -> "audit.repair".equals(text(r, "action")))).hasSize(1);
        assertEveryAckAudited(records, List.copyOf(acks));
        assertThat(seqOf(records, afterRequest)).isGreaterThan(open.get("seq").asLong());
    }

    // ---------------------------------------------------------------- the crash scenario

    private void crashAndRecover(CrashRig rig) throws Exception {
        Queue<Ack> acks = new ConcurrentLinkedQueue<>();
        Clients clients = new Clients(rig);
        // Per crash: every write acknowledged before it.
        List<List<Ack>> ackedBeforeCrash = new ArrayList<>();

        TresorProcess server = rig.start();
        try {
            setUp(server.apiPort(), clients, acks);
            for (int crash = 1; crash <= CRASHES; crash++) {
                // Kill after a random number of acknowledged writes, while the writers are busy.
                int target = MIN_ACKS_PER_CRASH + ThreadLocalRandom.current().nextInt(MIN_ACKS_PER_CRASH);
                CountDownLatch enough = new CountDownLatch(target);
                WriteLoad load = new WriteLoad(server.apiPort(), crash, clients, acks, enough);
                load.start(WRITERS);
                boolean reached = enough.await(30, TimeUnit.SECONDS);
                load.killing();
                int inFlight = load.inFlight();
                server.kill();
                assertThat(load.awaitStopped(30_000)).as("writers stop once the server is gone").isTrue();
                assertThat(load.errors()).as("errors while the server was alive").isEmpty();
                assertThat(reached).as("the load reached %d acknowledged writes", target).isTrue();
                assertThat(inFlight).as("requests in flight at the kill").isPositive();
                List<Ack> acked = List.copyOf(acks);
                ackedBeforeCrash.add(acked);

                // The log as the crash left it: every acknowledged request is already in it, and
                // the chain verifies up to at most a torn last line (a write cut short by the kill).
                VerificationResult crashed = AuditVerifier.verify(rig.auditLog(), rig.kek());
                if (!crashed.ok()) {
                    assertThat(crashed.problem()).as("only a torn last line may be wrong after a kill")
                            .contains("incomplete line — truncated record");
                    assertThat(crashed.firstBadLine()).isEqualTo(rig.auditRecords().size() + 1);
                }
                assertThat(crashed.cleanlyClosed()).isFalse();
                System.out.printf("crash %d: %d writes acknowledged so far, %d requests in flight at the kill, log as left: %s%n",
                        crash, acked.size(), inFlight, crashed.ok() ? "verifies" : crashed.problem());
                assertEveryAckAudited(rig.auditRecords(), acked);

                long restart = System.nanoTime();
                server = rig.start();
                long restarted = System.nanoTime();
                assertAllReadable(clients, server.apiPort(), acked);
                assertEveryAppliedWriteRecorded(clients, server.apiPort(), rig.auditRecords());
                System.out.printf("crash %d: restart took %d ms, reading back %d writes %d ms%n", crash,
                        (restarted - restart) / 1_000_000, acked.size(), (System.nanoTime() - restarted) / 1_000_000);
            }
            server.stop();
        } finally {
            server.close();
        }

        List<Ack> all = List.copyOf(acks);
        assertThat(all.size()).isGreaterThanOrEqualTo(CRASHES * MIN_ACKS_PER_CRASH);
        VerificationResult result = AuditVerifier.verify(rig.auditLog(), rig.kek());
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isTrue();

        List<JsonNode> records = rig.auditRecords();
        assertEveryAckAudited(records, all);
        // Each restart after a kill recorded the unclean shutdown, after every record the killed
        // server had acknowledged, and then the new server's start.
        List<JsonNode> unclean = records.stream()
                .filter(r -> "audit.open".equals(text(r, "action")) && UNCLEAN.equals(text(r, "detail")))
                .toList();
        assertThat(unclean).hasSize(CRASHES);
        assertThat(records.stream().filter(r -> "audit.open".equals(text(r, "action")))).hasSize(CRASHES);
        assertThat(records.stream().filter(r -> "server.start".equals(text(r, "action")))).hasSize(CRASHES + 1);
        for (int crash = 0; crash < CRASHES; crash++) {
            long openSeq = unclean.get(crash).get("seq").asLong();
            for (Ack ack : ackedBeforeCrash.get(crash)) {
                assertThat(seqOf(records, ack.requestId())).isLessThan(openSeq);
            }
            JsonNode next = records.stream()
                    .filter(r -> r.get("seq").asLong() > openSeq && "server.start".equals(text(r, "action")))
                    .findFirst().orElseThrow();
            if (crash + 1 < CRASHES) {
                assertThat(next.get("seq").asLong()).isLessThan(unclean.get(crash + 1).get("seq").asLong());
            }
        }
        // Any torn line a kill left was repaired, and each repair sits right before a restart's open record.
        for (int i = 0; i < records.size(); i++) {
            if ("audit.repair".equals(text(records.get(i), "action"))) {
                assertThat(text(records.get(i + 1), "detail")).isEqualTo(UNCLEAN);
            }
        }
    }

    // ---------------------------------------------------------------- steps and checks

    /** The identities the tests write and read as, each with its own connections. */
    private static final class Clients implements WriteLoad.HttpClientFactory {
        final CrashRig rig;
        final IssuedCert adminCert;
        final IssuedCert writerCert;
        final HttpClient admin;
        final HttpClient writer;
        final HttpClient reader;
        final HttpClient grantedReader;

        Clients(CrashRig rig) {
            this.rig = rig;
            this.adminCert = rig.certificate(CrashRig.ADMIN);
            this.writerCert = rig.certificate(WRITER);
            this.admin = rig.client(adminCert);
            this.writer = rig.client(writerCert);
            this.reader = rig.client(rig.certificate(READER));
            this.grantedReader = rig.client(rig.certificate(GRANTED_READER));
        }

        @Override
        public HttpClient admin() {
            return rig.client(adminCert);
        }

        @Override
        public HttpClient writer() {
            return rig.client(writerCert);
        }
    }

    /**
     * Groups {@code crash} (secrets the writers write, readable by {@code reader}) and
     * {@code granted} (secrets granted during the load, readable by {@code granted-reader} only),
     * the clients, and the shared secrets. Every step is an acknowledged write too.
     */
    private static void setUp(int port, Clients c, Queue<Ack> acks) throws Exception {
        expect(acks, "group.create", null, c.admin, port, "POST", "/v1/groups", "{\"name\":\"crash\"}", 201);
        expect(acks, "group.create", null, c.admin, port, "POST", "/v1/groups", "{\"name\":\"granted\"}", 201);
        expect(acks, "client.create", null, c.admin, port, "POST", "/v1/clients",
                "{\"name\":\"writer\",\"identity\":\"" + WRITER + "\"}", 201);
        expect(acks, "client.create", null, c.admin, port, "POST", "/v1/clients",
                "{\"name\":\"reader\",\"identity\":\"" + READER + "\"}", 201);
        expect(acks, "client.create", null, c.admin, port, "POST", "/v1/clients",
                "{\"name\":\"granted-reader\",\"identity\":\"" + GRANTED_READER + "\"}", 201);
        expect(acks, "group.member.add", null, c.admin, port, "PUT", "/v1/groups/crash/clients/writer", "{\"role\":\"write\"}", 200);
        expect(acks, "group.member.add", null, c.admin, port, "PUT", "/v1/groups/crash/clients/reader", "{\"role\":\"read\"}", 200);
        expect(acks, "group.member.add", null, c.admin, port, "PUT", "/v1/groups/granted/clients/granted-reader", "{\"role\":\"read\"}", 200);
        for (int i = 0; i < WriteLoad.SHARED_SECRETS; i++) {
            String name = WriteLoad.shared(i);
            String value = "initial-" + i;
            Reply r = CrashRig.call(c.admin, port, "PUT", "/v1/secrets/" + name,
                    "{\"value\":" + CrashRig.quote(value) + ",\"groups\":[\"crash\"]}");
            assertThat(r.status()).as(r.body()).isEqualTo(201);
            acks.add(new Ack("secret.write", name, 1, value, r.requestId(), r.status()));
        }
    }

    private static void expect(Queue<Ack> acks, String action, String secret, HttpClient client, int port, String method,
                               String path, String body, int status) throws Exception {
        Reply r = CrashRig.call(client, port, method, path, body);
        assertThat(r.status()).as("%s %s: %s", method, path, r.body()).isEqualTo(status);
        acks.add(new Ack(action, secret, null, null, r.requestId(), r.status()));
    }

    /** Every acknowledged version reads back with its acknowledged value; every acknowledged grant holds. */
    private static void assertAllReadable(Clients c, int port, List<Ack> acks) throws Exception {
        Set<String> versions = new HashSet<>();
        Map<String, Integer> highest = new HashMap<>();
        for (Ack ack : acks) {
            if (ack.value() != null) {
                // Two acknowledgements of one version would mean one of those writes was lost.
                assertThat(versions.add(ack.secret() + "@" + ack.version()))
                        .as("version %d of %s acknowledged twice", ack.version(), ack.secret()).isTrue();
                highest.merge(ack.secret(), ack.version(), Math::max);
            }
        }
        // Read back on a few connections at once; any failed check fails the test.
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> parts = new ArrayList<>();
            for (int part = 0; part < READ_CONNECTIONS; part++) {
                int first = part;
                parts.add(readers.submit(() -> {
                    for (int i = first; i < acks.size(); i += READ_CONNECTIONS) {
                        readBack(c, port, acks.get(i));
                    }
                    return null;
                }));
            }
            for (Future<?> part : parts) {
                try {
                    part.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AssertionError failed) {
                        throw failed;
                    }
                    throw e;
                }
            }
        }
        // Versions are never skipped: the newest one is at least the newest acknowledged.
        for (Map.Entry<String, Integer> e : highest.entrySet()) {
            Reply r = CrashRig.call(c.reader, port, "GET", "/v1/secrets/" + e.getKey() + "/versions", null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            List<Integer> listed = new ArrayList<>();
            r.json().get("versions").forEach(v -> listed.add(v.get("version").asInt()));
            assertThat(listed).as(e.getKey()).doesNotHaveDuplicates();
            assertThat(listed.stream().mapToInt(Integer::intValue).max().orElse(0)).isGreaterThanOrEqualTo(e.getValue());
            assertThat(listed).hasSize(listed.stream().mapToInt(Integer::intValue).max().orElse(0));
        }
    }

    private static void readBack(Clients c, int port, Ack ack) throws Exception {
        if (ack.value() != null) {
            Reply r = CrashRig.call(c.reader, port, "GET", "/v1/secrets/" + ack.secret() + "?version=" + ack.version(), null);
            assertThat(r.status()).as("read %s v%d: %s", ack.secret(), ack.version(), r.body()).isEqualTo(200);
            assertThat(r.json().get("value").asText()).as("%s v%d", ack.secret(), ack.version()).isEqualTo(ack.value());
            assertThat(r.json().get("version").asInt()).isEqualTo(ack.version());
        } else if (ack.action().equals("grant.add")) {
            Reply r = CrashRig.call(c.grantedReader, port, "GET", "/v1/secrets/" + ack.secret(), null);
            assertThat(r.status()).as("granted read of %s: %s", ack.secret(), r.body()).isEqualTo(200);
        }
    }

    /**
     * Every write the store applied has a record, acknowledged or not: a write in flight at the kill
     * may have committed without its outcome record, but its intent record was written before the
     * commit. Versions are never skipped (checked above), so a secret's latest version counts the
     * writes applied to it, and each needs an intent record of its own.
     */
    private static void assertEveryAppliedWriteRecorded(Clients c, int port, List<JsonNode> records) throws Exception {
        Map<String, Integer> intents = new HashMap<>();
        for (JsonNode r : records) {
            if ("intent".equals(text(r, "outcome")) && "secret.write".equals(text(r, "action"))) {
                intents.merge(text(r, "secret"), 1, Integer::sum);
            }
        }
        int checked = 0;
        String after = null;
        do {
            Reply r = CrashRig.call(c.reader, port, "GET", "/v1/secrets?limit=1000" + (after == null ? "" : "&after=" + after), null);
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            for (JsonNode meta : r.json().get("secrets")) {
                String name = meta.get("name").asText();
                int applied = meta.get("latestVersion").asInt();
                assertThat(intents.getOrDefault(name, 0)).as("writes applied to %s (%d) without a record", name, applied)
                        .isGreaterThanOrEqualTo(applied);
                checked++;
            }
            after = r.json().get("next").isNull() ? null : r.json().get("next").asText();
        } while (after != null);
        assertThat(checked).as("secrets checked").isPositive();
    }

    /** Each acknowledged request has exactly one outcome record, describing what was acknowledged, and an intent before it if it wrote. */
    private static void assertEveryAckAudited(List<JsonNode> records, List<Ack> acks) {
        Map<String, JsonNode> byRequest = new HashMap<>();
        Map<String, Long> intentSeq = new HashMap<>();
        for (JsonNode r : records) {
            String id = text(r, "requestId");
            if (id != null && "intent".equals(text(r, "outcome"))) {
                assertThat(intentSeq.put(id, r.get("seq").asLong())).as("request id %s has two intents", id).isNull();
            } else if (id != null) {
                assertThat(byRequest.put(id, r)).as("request id %s audited twice", id).isNull();
            }
        }
        for (Ack ack : acks) {
            JsonNode r = byRequest.get(ack.requestId());
            assertThat(r).as("audit record of acknowledged %s %s (request %s)", ack.action(), ack.secret(), ack.requestId())
                    .isNotNull();
            assertThat(text(r, "action")).isEqualTo(ack.action());
            assertThat(text(r, "outcome")).isEqualTo("allowed");
            assertThat(intentSeq.get(ack.requestId())).as("intent of %s %s", ack.action(), ack.secret())
                    .isNotNull().isLessThan(r.get("seq").asLong());
            assertThat(r.get("status").asInt()).isEqualTo(ack.status());
            if (ack.secret() != null) {
                assertThat(text(r, "secret")).isEqualTo(ack.secret());
            }
            if (ack.version() != null) {
                assertThat(r.get("version").asInt()).isEqualTo(ack.version());
            }
            if (ack.value() != null) {
                assertThat(r.toString()).as("values never reach the audit log").doesNotContain(ack.value());
            }
        }
    }

    private static long seqOf(List<JsonNode> records, String requestId) {
        return records.stream().filter(r -> requestId.equals(text(r, "requestId")))
                .findFirst().orElseThrow().get("seq").asLong();
    }

    private static String text(JsonNode record, String field) {
        JsonNode v = record.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
