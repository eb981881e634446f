package dev.tresor.server;

import dev.tresor.testkit.Await;
import static dev.tresor.server.Replies.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.RsyslogServer;
import dev.tresor.testkit.TestPki;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server configured with a syslog copy of its audit records (SPEC §2.5, for a SIEM): every
 * record reaches a real rsyslogd over TLS, values never do, and a collector that goes away
 * holds up no request; what it missed is delivered when it comes back.
 */
class AuditCopyTest {

    @TempDir
    Path dir;

    private static long metric(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*sink=\"syslog:[^\"]*\"[^}]*} ([0-9.E+]+)$")
                .matcher(scrape);
        assertThat(m.find()).as(name + " in the scrape").isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    void recordsReachTheCollectorWithoutValuesAndACollectorOutageHoldsUpNoRequest() throws Exception {
        TestPki collectorPki = TestPki.create("siem-ca");
        Path siemCa = collectorPki.writeCaPem(dir.resolve("siem-ca.pem"));
        try (RsyslogServer rsyslog = new RsyslogServer(dir.resolve("rsyslog"), collectorPki)) {
            rsyslog.start();
            String sinks = """
                        - kind: syslog
                          address: "localhost:%d"
                          ca: %s
                          appName: tresor-test
                          bufferRecords: 1000
                    """.formatted(rsyslog.port(), siemCa);
            Path serverDir = java.nio.file.Files.createDirectories(dir.resolve("server"));
            try (ServerFixture f = ServerFixture.start(serverDir, ServerFixture.StoreKind.SQLITE,
                    new ServerFixture.Options(null, null, null, null, sinks))) {
                HttpResponse<String> write = f.call(f.admin(), "PUT", "/v1/secrets/openemr/mariadb",
                        "{\"value\":\"s3cr3t-value-1\"}");
                ok(write, 201);
                String requestId = write.headers().firstValue("X-Request-Id").orElseThrow();
                List<String> lines = rsyslog.awaitLine("\"requestId\":\"" + requestId + "\",\"client\":\"admin\","
                        + "\"action\":\"secret.write\"");
                assertThat(lines).noneMatch(l -> l.contains("s3cr3t"));
                assertThat(lines).allMatch(l -> l.contains(" tresor-test "));

                rsyslog.stop();
                // The collector is gone: writes and reads go on, the file chain has every record.
                for (int i = 2; i <= 6; i++) {
                    ok(f.call(f.admin(), "PUT", "/v1/secrets/openemr/mariadb", "{\"value\":\"s3cr3t-value-" + i + "\"}"),
                            200);
                }
                HttpResponse<String> last = f.call(f.admin(), "GET", "/v1/secrets/openemr/mariadb", null);
                Replies.error(last, 403); // admins read through a group only: a refusal, audited too
                Await.until("the copy noticing the collector is down",
                        () -> metric(f.management("GET", "/metrics").body(), "tresor_audit_sink_failed_total") > 0);

                rsyslog.start();
                String lastId = last.headers().firstValue("X-Request-Id").orElseThrow();
                lines = rsyslog.awaitLine("\"requestId\":\"" + lastId + "\",\"client\":\"admin\",\"action\":\"secret.read\"");
                assertThat(lines).anyMatch(l -> l.startsWith("109 tresor-test secret.read ") && l.contains(lastId));
                assertThat(lines).noneMatch(l -> l.contains("s3cr3t"));
                String scrape = f.management("GET", "/metrics").body();
                assertThat(metric(scrape, "tresor_audit_sink_dropped_total")).isZero();
                assertThat(metric(scrape, "tresor_audit_sink_written_total")).isPositive();
                assertThat(scrape).contains("tresor_audit_sink_write_seconds_bucket{");
            }
        }
    }
}
