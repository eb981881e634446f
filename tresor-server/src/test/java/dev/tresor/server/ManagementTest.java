package dev.tresor.server;

import static dev.tresor.server.AuditFailClosedTest.metricValue;
import static dev.tresor.server.Replies.error;
import static dev.tresor.server.Replies.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain-HTTP management port: probes and Prometheus metrics, nothing secret, nothing else. */
class ManagementTest {

    @TempDir
    Path dir;

    @Test
    void probesAnswerOnTheManagementPortOnly() {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            HttpResponse<String> health = f.management("GET", "/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok\n");
            HttpResponse<String> ready = f.management("GET", "/readyz");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(ready.body()).isEqualTo("ready\n");

            assertThat(f.management("GET", "/v1/secrets").statusCode()).isEqualTo(404);
            assertThat(f.management("GET", "/v1/whoami").statusCode()).isEqualTo(404);
            assertThat(f.management("GET", "/").statusCode()).isEqualTo(404);
            assertThat(f.management("POST", "/healthz").statusCode()).isEqualTo(405);
            assertThat(f.management("DELETE", "/metrics").statusCode()).isEqualTo(405);
            RawHttp.Reply head = RawHttp.sendPlain("127.0.0.1", f.server().managementPort(), "HEAD", "/healthz", Map.of(), null);
            assertThat(head.status()).isEqualTo(200);

            // The API port has no probes: they are not API endpoints.
            error(f.call(f.admin(), "GET", "/healthz", null), 404);
            error(f.call(f.admin(), "GET", "/metrics", null), 404);
        }
    }

    @Test
    void metricsCountRequestsByRouteAndStatus() {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"read\"}"), 200);
            ok(f.call(admin, "PUT", "/v1/secrets/metered", "{\"value\":\"metered-value\",\"groups\":[\"app\"]}"), 201);
            for (int i = 0; i < 3; i++) {
                ok(f.call(admin, "GET", "/v1/secrets/metered", null), 200);
            }
            error(f.call(admin, "GET", "/v1/secrets/not-there", null), 404);
            error(f.call(admin, "GET", "/v1/secrets/not-there", null), 404);
            error(f.call(admin, "PATCH", "/v1/whoami", null), 405);

            HttpResponse<String> scrape = f.management("GET", "/metrics");
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
            String m = scrape.body();
            assertThat(m).contains("# TYPE tresor_http_requests_seconds histogram");
            // Fixed sub-millisecond buckets, so p99 can be computed: 3 reads, each at most 10 s.
            assertThat(metricValue(m, "tresor_http_requests_seconds_bucket{action=\"secret.read\",status=\"200\",le=\"10.0\"}"))
                    .isEqualTo(3.0);
            assertThat(m).contains("tresor_http_requests_seconds_bucket{action=\"secret.read\",status=\"200\",le=\"5.0E-5\"}");
            assertThat(metricValue(m, "tresor_audit_write_seconds_count")).isGreaterThanOrEqualTo(7.0);
            assertThat(m).containsPattern("tresor_build_info\\{commit=\"([0-9a-f]{12}|unknown)\",java=\"[^\"]+\",version=\"0\\.1\\.0[^\"]*\"} 1");
            assertThat(metricValue(m, "tresor_certificate_expiry_seconds{certificate=\"server\"}")).isPositive();
            assertThat(metricValue(m, "tresor_tls_files_unused")).isZero();
            assertThat(m).contains("tresor_store_pool_active_connections", "tresor_store_pool_max_connections",
                    "jvm_memory_used_bytes", "jvm_classes_loaded_classes", "jvm_threads_live_threads", "process_cpu_usage",
                    "process_uptime_seconds", "process_files_open_files");
            assertThat(metricValue(m, "tresor_http_requests_seconds_count{action=\"secret.read\",status=\"200\"}")).isEqualTo(3.0);
            assertThat(metricValue(m, "tresor_http_requests_seconds_count{action=\"secret.read\",status=\"404\"}")).isEqualTo(2.0);
            assertThat(metricValue(m, "tresor_http_requests_seconds_count{action=\"secret.write\",status=\"201\"}")).isEqualTo(1.0);
            assertThat(metricValue(m, "tresor_http_requests_seconds_count{action=\"group.create\",status=\"201\"}")).isEqualTo(1.0);
            assertThat(metricValue(m, "tresor_http_requests_seconds_count{action=\"unknown\",status=\"405\"}")).isEqualTo(1.0);
            assertThat(m).contains("tresor_audit_failures_total 0.0");
            assertThat(m).contains("tresor_integrity_violations_total 0.0");
            assertThat(m).contains("tresor_tls_handshake_failures_total");
            assertThat(m).doesNotContain("metered-value");
        }
    }

    @Test
    void tamperingIsRefusedCountedAndAudited() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"read\"}"), 200);
            ok(f.call(admin, "PUT", "/v1/secrets/guarded", "{\"value\":\"guarded-value\",\"groups\":[\"app\"]}"), 201);
            ok(f.call(admin, "GET", "/v1/secrets/guarded", null), 200);

            // Someone with write access to the database, but not to the KEK, edits the row.
            try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + f.dir().resolve("tresor.db"));
                    Statement sql = db.createStatement()) {
                sql.execute("PRAGMA busy_timeout = 10000");
                assertThat(sql.executeUpdate("UPDATE secrets SET description = 'changed behind Tresor''s back' WHERE name = 'guarded'"))
                        .isEqualTo(1);
            }

            HttpResponse<String> r = f.call(admin, "GET", "/v1/secrets/guarded", null);
            error(r, 500);
            assertThat(r.body()).doesNotContain("guarded-value").contains("integrity");
            String m = f.management("GET", "/metrics").body();
            assertThat(metricValue(m, "tresor_integrity_violations_total")).isGreaterThanOrEqualTo(1.0);
            JsonNode record = f.auditLines().stream().map(Replies::json)
                    .filter(n -> r.headers().firstValue("X-Request-Id").orElseThrow().equals(n.path("requestId").asText()) && !"intent".equals(n.path("outcome").asText()))
                    .findFirst().orElseThrow();
            assertThat(record.get("outcome").asText()).isEqualTo("tamper");
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"integrity.violation\""));
            // Probes still answer: a tampered row fails closed for that row, not for the server.
            assertThat(f.management("GET", "/healthz").statusCode()).isEqualTo(200);
            assertThat(f.management("GET", "/readyz").statusCode()).isEqualTo(200);
        }
    }
}
