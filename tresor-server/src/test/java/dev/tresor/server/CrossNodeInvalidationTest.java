package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.store.ChangeListenerStatus;
import dev.tresor.testkit.IssuedCert;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-node invalidation on PostgreSQL (issue 17). Access is fresh on every request by
 * construction (each request compares the store's change token, a PostgreSQL snapshot, before it
 * reuses any verified row), so a revoke on node A is refused by node B at its next request, also
 * while B has no notification connection. What LISTEN/NOTIFY adds is prompt delivery on the change
 * feed: node B here re-checks only every 10 minutes, so a watcher on B that is answered within the
 * test's bounded wait was woken by A's NOTIFY. Killing B's LISTEN backend shows the listener
 * reconnecting (its status and {@code /metrics}) and NOTIFY working again afterwards.
 */
class CrossNodeInvalidationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode json(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    private static ChangeListenerStatus awaitListening(TresorServer node, long connects) {
        return dev.tresor.testkit.Await.value("the LISTEN connection up after at least " + connects + " connects",
                java.time.Duration.ofSeconds(60), () -> {
                    ChangeListenerStatus now = node.changeListener().orElseThrow();
                    return now.connected() && now.connects() >= connects ? java.util.Optional.of(now) : java.util.Optional.empty();
                });
    }

    /**
     * Waits until B's watcher is parked: otherwise its first look may find the write at once and
     * prove nothing about the notification (the cause of a CI failure on 2026-12-07, where the
     * notification counter had not moved yet when the watcher answered).
     */
    private static void awaitParked(TresorServer b) {
        dev.tresor.testkit.Await.until("B's watcher parked", java.time.Duration.ofSeconds(30), () -> {
            try {
                return metrics(b).contains("tresor_watch_waiting 1.0");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String metrics(TresorServer node) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.managementPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** Starts a long-poll on B from its current cursor; the answer's changes as "kind:secret@version". */
    private static CompletableFuture<String> watchOn(TwoNodes nodes, IssuedCert who) throws Exception {
        String cursor = json(nodes.onB(who, "GET", "/v1/watch", null), 200).get("cursor").asText();
        return CompletableFuture.supplyAsync(() -> {
            try {
                JsonNode page = json(nodes.onB(who, "GET", "/v1/watch?since=" + cursor + "&wait=60s", null), 200);
                StringBuilder seen = new StringBuilder();
                for (JsonNode c : page.get("changes")) {
                    seen.append(seen.isEmpty() ? "" : " ").append(c.get("kind").asText()).append(':')
                            .append(c.get("secret").asText()).append('@').append(c.path("version").asText());
                }
                return seen.toString();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void aRevokeOnAIsRefusedOnBWithOrWithoutItsListenerAndBsFeedIsWokenByNotify() throws Exception {
        try (TwoNodes nodes = TwoNodes.start(dir, "  changeRecheck: 10m\n")) {
            ServerFixture f = nodes.a();
            TresorServer b = nodes.b();
            IssuedCert admin = f.admin();
            IssuedCert web = nodes.reader("app", "web");
            IssuedCert ops = nodes.reader("app", "ops");
            nodes.admin("PUT", "/v1/secrets/db/pw", "{\"value\":\"v1\",\"groups\":[\"app\"]}", 201);
            assertThat(nodes.onB(web, "GET", "/v1/secrets/db/pw", null).statusCode()).isEqualTo(200);

            ChangeListenerStatus first = awaitListening(b, 1);
            assertThat(metrics(b)).contains("tresor_store_change_listener_connected 1.0");

            // B's watcher is woken by A's write: B itself would not look again for 10 minutes.
            CompletableFuture<String> woken = watchOn(nodes, admin);
            awaitParked(b);
            assertThat(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"v2\"}").statusCode()).isEqualTo(200);
            assertThat(woken.get(60, TimeUnit.SECONDS)).isEqualTo("version:db/pw@2");
            assertThat(b.changeListener().orElseThrow().notifications()).isGreaterThan(first.notifications());

            // Cut B's LISTEN connection, then revoke on A at once: B refuses at its next request.
            try (Connection pg = f.postgres().connect();
                 PreparedStatement kill = pg.prepareStatement("SELECT pg_terminate_backend(?)")) {
                kill.setInt(1, first.backendPid());
                try (ResultSet rs = kill.executeQuery()) {
                    assertThat(rs.next() && rs.getBoolean(1)).as("B's listener backend " + first.backendPid() + " killed").isTrue();
                }
            }
            assertThat(f.call(admin, "DELETE", "/v1/groups/app/clients/web", null).statusCode()).isIn(200, 204);
            HttpResponse<String> refused = nodes.onB(web, "GET", "/v1/secrets/db/pw", null);
            assertThat(refused.statusCode()).as(refused.body()).isIn(403, 404);

            // The listener comes back on a new backend, and NOTIFY wakes B's watchers again.
            ChangeListenerStatus again = awaitListening(b, first.connects() + 1);
            assertThat(again.backendPid()).isNotEqualTo(first.backendPid());
            String scraped = metrics(b);
            assertThat(scraped).contains("tresor_store_change_listener_connected 1.0");
            java.util.regex.Matcher connects = java.util.regex.Pattern
                    .compile("(?m)^tresor_store_change_listener_connects_total ([0-9.]+)$").matcher(scraped);
            assertThat(connects.find()).as(scraped).isTrue();
            assertThat(Double.parseDouble(connects.group(1))).as("re-opened after the kill").isGreaterThanOrEqualTo(2.0);
            CompletableFuture<String> wokenAgain = watchOn(nodes, admin);
            awaitParked(b);
            assertThat(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"v3\"}").statusCode()).isEqualTo(200);
            assertThat(wokenAgain.get(60, TimeUnit.SECONDS)).isEqualTo("version:db/pw@3");
            // Still refused on B, and the new version is what B serves to a remaining member.
            assertThat(nodes.onB(web, "GET", "/v1/secrets/db/pw", null).statusCode()).isIn(403, 404);
            assertThat(nodes.onB(ops, "GET", "/v1/secrets/db/pw", null).body()).contains("\"value\":\"v3\"");
        }
    }
}
