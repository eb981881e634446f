package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log with two nodes on one PostgreSQL (issue 17): each node keeps its own chain with
 * its node id in every record; GET /v1/audit on either node answers with both nodes' records (the
 * other's from the copy in the store), also once the other node is stopped; node= pages one node's
 * chain; a copy lost from the store is caught up from the node's file at its next start; the
 * copied lines are the chain's lines; and the two logs verified together check each chain apart.
 */
class MultiNodeAuditTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode audit(ServerFixture f, int port, String query) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/v1/audit" + query))
                .timeout(Duration.ofSeconds(30)).GET().build();
        HttpResponse<String> r = f.send(f.admin(), request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String get(ServerFixture f, int port, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30)).GET().build();
        return f.send(f.admin(), request, HttpResponse.BodyHandlers.ofString()).statusCode() + "";
    }

    /** Polls GET /v1/audit on {@code port} until a record matches (the other node's copy is a moment behind). */
    private static JsonNode awaitRecord(ServerFixture f, int port, String query, Predicate<JsonNode> wanted) {
        java.util.concurrent.atomic.AtomicReference<JsonNode> page = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            return dev.tresor.testkit.Await.value("a matching record in GET /v1/audit" + query + " on port " + port,
                    java.time.Duration.ofSeconds(30), () -> {
                        try {
                            page.set(audit(f, port, query));
                        } catch (Exception e) {
                            throw new IllegalStateException("GET /v1/audit on port " + port + " failed", e);
                        }
                        for (JsonNode r : page.get().get("records")) {
                            if (wanted.test(r)) {
                                return java.util.Optional.of(r);
                            }
                        }
                        return java.util.Optional.empty();
                    });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last page: " + page.get(), e);
        }
    }

    private static Predicate<JsonNode> read(String node, String secret) {
        return r -> node.equals(r.path("node").asText()) && "secret.read".equals(r.path("action").asText())
                && secret.equals(r.path("secret").asText());
    }

    @Test
    void everyNodeAnswersWithTheRecordsOfAllNodesAndEachChainVerifies() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.POSTGRESQL)) {
            Path configB = dir.resolve("tresor-b.yaml");
            Files.writeString(configB, Files.readString(dir.resolve("tresor.yaml")).replace("path: audit.log", "path: audit-b.log"));
            String nodeA = f.server().nodeId();
            assertThat(nodeA).isNotBlank();
            assertThat(Files.readString(dir.resolve("audit.log.node")).strip()).isEqualTo(nodeA);
            String nodeB;
            int portA = f.apiPort();
            TresorServer b = TresorServer.start(ConfigLoader.load(configB), f.clock());
            try {
                nodeB = b.nodeId();
                assertThat(nodeB).isNotEqualTo(nodeA);
                assertThat(f.call(f.admin(), "POST", "/v1/groups", "{\"name\":\"ops\"}").statusCode()).isEqualTo(201);
                assertThat(f.call(f.admin(), "PUT", "/v1/groups/ops/clients/admin", "{\"role\":\"write\"}").statusCode()).isEqualTo(200);
                assertThat(f.call(f.admin(), "PUT", "/v1/secrets/on/a", "{\"value\":\"x\",\"groups\":[\"ops\"]}").statusCode()).isEqualTo(201);
                assertThat(f.call(f.admin(), "PUT", "/v1/secrets/on/b", "{\"value\":\"y\",\"groups\":[\"ops\"]}").statusCode()).isEqualTo(201);
                assertThat(get(f, portA, "/v1/secrets/on/a")).isEqualTo("200");
                for (int i = 0; i < 30; i++) {
                    assertThat(get(f, b.apiPort(), "/v1/secrets/on/b")).isEqualTo("200");
                }

                // Either node shows the other's reads.
                awaitRecord(f, portA, "?secret=on/b&limit=100", read(nodeB, "on/b"));
                awaitRecord(f, b.apiPort(), "?secret=on/a", read(nodeA, "on/a"));
                JsonNode merged = audit(f, portA, "?limit=1000");
                assertThat(merged.get("next").isNull()).as("a merged answer is paged by time").isTrue();
                List<String> nodesSeen = new ArrayList<>();
                merged.get("records").forEach(r -> nodesSeen.add(r.path("node").asText()));
                assertThat(nodesSeen).contains(nodeA, nodeB).allMatch(n -> n.equals(nodeA) || n.equals(nodeB));
                String previous = "";
                for (JsonNode r : merged.get("records")) {
                    assertThat(r.get("time").asText()).as("oldest first").isGreaterThanOrEqualTo(previous);
                    previous = r.get("time").asText();
                }

                // node= pages one node's chain, on any node, backwards by seq.
                JsonNode bOnly = audit(f, portA, "?node=" + nodeB + "&secret=on/b&limit=10");
                assertThat(bOnly.get("records")).hasSize(10).allSatisfy(r -> assertThat(r.get("node").asText()).isEqualTo(nodeB));
                long oldest = bOnly.get("next").asLong();
                JsonNode before = audit(f, portA, "?node=" + nodeB + "&secret=on/b&limit=10&before=" + oldest);
                assertThat(before.get("records")).isNotEmpty()
                        .allSatisfy(r -> assertThat(r.get("seq").asLong()).isLessThan(oldest));
                JsonNode ownOnly = audit(f, portA, "?node=" + nodeA + "&limit=5");
                assertThat(ownOnly.get("records")).allSatisfy(r -> assertThat(r.get("node").asText()).isEqualTo(nodeA));
                assertThat(audit(f, portA, "?node=nobody&limit=5").get("records")).isEmpty();
                HttpResponse<String> badNode = f.call(f.admin(), "GET", "/v1/audit?node=%2Fetc", null);
                assertThat(badNode.statusCode()).as(badNode.body()).isEqualTo(400);
            } finally {
                b.close();
            }
            // B is down: A still answers with B's records, including B's close.
            awaitRecord(f, portA, "?node=" + nodeB + "&limit=5", r -> "audit.close".equals(r.path("action").asText())
                    || "server.stop".equals(r.path("action").asText()));

            // Every record in each file names its node, and every copy in the store is that line.
            for (String[] log : new String[][] {{"audit.log", nodeA}, {"audit-b.log", nodeB}}) {
                Map<Long, JsonNode> bySeq = new HashMap<>();
                for (String line : Files.readAllLines(dir.resolve(log[0]))) {
                    JsonNode record = JSON.readTree(line);
                    if ("event".equals(record.path("type").asText())) {
                        assertThat(record.path("node").asText()).as(line).isEqualTo(log[1]);
                        bySeq.put(record.get("seq").asLong(), record);
                    }
                }
                int compared = 0;
                try (Connection pg = f.postgres().connect();
                     PreparedStatement rows = pg.prepareStatement("SELECT seq, line FROM audit_records WHERE node = ?")) {
                    rows.setString(1, log[1]);
                    try (ResultSet rs = rows.executeQuery()) {
                        while (rs.next()) {
                            assertThat(JSON.readTree(rs.getString(2))).isEqualTo(bySeq.get(rs.getLong(1)));
                            compared++;
                        }
                    }
                }
                if (log[1].equals(nodeB)) {
                    assertThat(compared).as("every record of the stopped node B is in the store").isEqualTo(bySeq.size());
                } else {
                    assertThat(compared).isPositive();
                }
            }

            // B's copies lost from the store: B's next start catches up from its file.
            f.postgres().connect().createStatement().execute("DELETE FROM audit_records WHERE node = '" + nodeB + "'");
            try (TresorServer again = TresorServer.start(ConfigLoader.load(configB), f.clock())) {
                assertThat(again.nodeId()).isEqualTo(nodeB);
                awaitRecord(f, portA, "?node=" + nodeB + "&secret=on/b&limit=50", read(nodeB, "on/b"));
            }

            // A copy of B's editedCopy in the database (a read turned into a refusal): A leaves it out and raises an alarm.
            long editedCopy = audit(f, portA, "?node=" + nodeB + "&secret=on/b&limit=1").get("records").get(0).get("seq").asLong();
            try (Connection pg = f.postgres().connect();
                 PreparedStatement edit = pg.prepareStatement("UPDATE audit_records SET line = replace(line, '\"allowed\"',"
                         + " '\"denied\"') WHERE node = ? AND seq = ?")) {
                edit.setString(1, nodeB);
                edit.setLong(2, editedCopy);
                assertThat(edit.executeUpdate()).isEqualTo(1);
            }
            JsonNode shown = audit(f, portA, "?node=" + nodeB + "&secret=on/b&limit=50");
            assertThat(shown.get("records")).isNotEmpty().allSatisfy(r -> assertThat(r.get("seq").asLong()).isNotEqualTo(editedCopy));
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"integrity.violation\"")
                    && l.contains("audit record copy " + nodeB + "/" + editedCopy));

            // The two logs together: each node's chain verifies on its own.
            f.stopServer();
            LocalKeyProvider kek = LocalKeyProvider.load(dir.resolve("kek.json"));
            List<AuditVerifier.NodeChain> chains = AuditVerifier.verifyChains(List.of(dir), kek);
            assertThat(chains).extracting(AuditVerifier.NodeChain::node).containsExactlyInAnyOrder(nodeA, nodeB);
            assertThat(chains).allSatisfy(c -> assertThat(c.result().ok()).as(c.node() + ": " + c.result().problem()).isTrue());
            assertThat(AuditVerifier.verify(List.of(dir.resolve("audit.log"), dir.resolve("audit-b.log")), kek).ok()).isTrue();

            // An edited record of B is named as B's.
            List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("audit-b.log")));
            int edited = 0;
            while (!lines.get(edited).contains("\"secret.read\"")) {
                edited++;
            }
            lines.set(edited, lines.get(edited).replace("\"secret.read\"", "\"secret.list\""));
            Files.write(dir.resolve("audit-b.log"), lines);
            var broken = AuditVerifier.verify(List.of(dir), kek);
            assertThat(broken.ok()).isFalse();
            assertThat(broken.problem()).contains("the chain of node " + nodeB);
        }
    }
}
