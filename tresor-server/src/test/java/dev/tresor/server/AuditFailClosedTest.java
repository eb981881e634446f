package dev.tresor.server;

import dev.tresor.testkit.Await;
import static dev.tresor.server.Replies.error;
import static dev.tresor.server.Replies.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.access.Caller;
import dev.tresor.server.config.ConfigException;
import dev.tresor.testkit.IssuedCert;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §2.5: every answered request has its audit record written (handed to the OS) before the
 * response; when no audit sink can write, requests fail with 503 and no value while the
 * management port keeps answering; values never reach the audit log or the server's logs.
 */
class AuditFailClosedTest {

    @TempDir
    Path dir;

    private static JsonNode record(ServerFixture f, HttpResponse<String> r) {
        return record(f, r.headers().firstValue("X-Request-Id").orElseThrow());
    }

    /** The audit record of a request, read from the file right after its response arrived. */
    private static JsonNode record(ServerFixture f, String requestId) {
        return f.auditLines().stream().map(Replies::json).filter(n -> requestId.equals(n.path("requestId").asText()) && !"intent".equals(n.path("outcome").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("the response to request " + requestId
                        + " arrived before its audit record was written"));
    }

    private static void assertRecord(ServerFixture f, HttpResponse<String> r, String client, String action, String outcome) {
        JsonNode rec = record(f, r);
        assertThat(rec.get("client").isNull() ? null : rec.get("client").asText()).isEqualTo(client);
        assertThat(rec.get("action").asText()).isEqualTo(action);
        assertThat(rec.get("outcome").asText()).isEqualTo(outcome);
        assertThat(rec.get("status").asInt()).isEqualTo(r.statusCode());
        assertThat(rec.get("source").asText()).isEqualTo("127.0.0.1");
    }

    @Test
    void everyAnsweredRequestHasItsRecordBeforeTheResponse() {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            HttpResponse<String> r = f.call(admin, "GET", "/v1/whoami", null);
            ok(r, 200);
            assertRecord(f, r, "admin", "whoami", "allowed");

            r = f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}");
            ok(r, 201);
            assertRecord(f, r, "admin", "group.create", "allowed");

            r = f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"pw-1\",\"groups\":[\"app\"]}");
            ok(r, 201);
            assertRecord(f, r, "admin", "secret.write", "allowed");
            assertThat(record(f, r).get("secret").asText()).isEqualTo("db/pw");
            assertThat(record(f, r).get("version").asInt()).isEqualTo(1);

            ok(f.call(admin, "POST", "/v1/clients", "{\"name\":\"app1\",\"identity\":\"spiffe://tresor.test/app1\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/app1", "{\"role\":\"read\"}"), 200);
            IssuedCert app = f.pki().client("spiffe://tresor.test/app1");
            r = f.call(app, "GET", "/v1/secrets/db/pw", null);
            ok(r, 200);
            assertRecord(f, r, "app1", "secret.read", "allowed");
            assertThat(record(f, r).get("version").asInt()).isEqualTo(1);

            r = f.call(admin, "GET", "/v1/secrets/db/pw", null);
            error(r, 403);
            assertRecord(f, r, "admin", "secret.read", "denied");

            IssuedCert stranger = f.pki().client("spiffe://tresor.test/stranger");
            r = f.call(stranger, "GET", "/v1/secrets/db/pw", null);
            error(r, 401);
            assertRecord(f, r, "spiffe://tresor.test/stranger", "secret.read", "denied");

            r = f.call(admin, "GET", "/v1/nothing", null);
            error(r, 404);
            assertRecord(f, r, "admin", "unknown", "rejected");

            r = f.call(admin, "DELETE", "/v1/whoami", null);
            error(r, 405);
            assertRecord(f, r, "admin", "unknown", "rejected");

            r = f.call(admin, "PUT", "/v1/secrets/a/../b", "{\"value\":\"x\"}");
            error(r, 400);
            assertRecord(f, r, "admin", "secret.write", "rejected");

            r = f.call(admin, "PUT", "/v1/secrets/big", "{\"value\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}");
            error(r, 413);
            assertRecord(f, r, "admin", "secret.write", "rejected");

            RawHttp.Reply jettyLevel = f.raw(admin, "GET", "/v1/whoami", Map.of("X-Padding", "p".repeat(20_000)), null);
            error(jettyLevel, 431);
            JsonNode rec = record(f, jettyLevel.header("X-Request-Id"));
            assertThat(rec.get("action").asText()).isEqualTo("http.reject");
            assertThat(rec.get("status").asInt()).isEqualTo(431);

            // The audit API shows the same records.
            JsonNode api = ok(f.call(admin, "GET", "/v1/audit?secret=db/pw", null), 200);
            assertThat(api.get("records").findValuesAsText("action")).contains("secret.write", "secret.read");
        }
    }

    /**
     * Makes the only audit sink fail for real: the anchor it rewrites after every fsync is written
     * through {@code audit.log.anchor.tmp}, and a directory in its place makes that open fail with
     * EISDIR, even for root. The sink then refuses every further record (its on-disk state is
     * unknown), which is exactly "no audit sink can write".
     */
    private static void breakAuditSink(ServerFixture f) throws IOException {
        Path blocker = f.dir().resolve("audit.log.anchor.tmp");
        // The sink's fsync thread writes this temporary file itself (then renames it) every few
        // milliseconds, so it can reappear between the delete and the mkdir: try again until the
        // directory is ours (a bounded number of times).
        for (int attempt = 0; ; attempt++) {
            Files.deleteIfExists(blocker);
            try {
                Files.createDirectory(blocker);
                break;
            } catch (java.nio.file.FileAlreadyExistsException written) {
                if (attempt == 100) {
                    throw written;
                }
            }
        }
        Files.writeString(blocker.resolve("keep"), "a non-empty directory cannot be renamed over either");
        // Any request makes the sink write, and its next fsync fails; wait until the server notices.
        f.call(f.admin(), "GET", "/v1/whoami", null);
        Await.until("/readyz answering 503 once the audit log cannot sync",
                () -> f.management("GET", "/readyz").statusCode() == 503);
    }

    @Test
    void anUnwritableAuditLogRefusesRequestsWith503AndNoValue() throws IOException {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"never-served-value\",\"groups\":[\"app\"]}"), 201);
            ok(f.call(admin, "POST", "/v1/clients", "{\"name\":\"app1\",\"identity\":\"spiffe://tresor.test/app1\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/app1", "{\"role\":\"write\"}"), 200);
            IssuedCert app = f.pki().client("spiffe://tresor.test/app1");
            assertThat(ok(f.call(app, "GET", "/v1/secrets/db/pw", null), 200).get("value").asText()).isEqualTo("never-served-value");
            assertThat(f.management("GET", "/readyz").statusCode()).isEqualTo(200);

            breakAuditSink(f);

            HttpResponse<String> read = f.call(app, "GET", "/v1/secrets/db/pw", null);
            String message = error(read, 503);
            assertThat(message).contains("audit");
            assertThat(read.body()).doesNotContain("never-served-value");
            HttpResponse<byte[]> raw = f.send(app, HttpRequest.newBuilder(f.api("/v1/secrets/db/pw"))
                    .header("Accept", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(raw.statusCode()).isEqualTo(503);
            assertThat(new String(raw.body(), StandardCharsets.UTF_8)).doesNotContain("never-served-value");
            assertThat(raw.headers().firstValue("Content-Type")).hasValue("application/json");

            // Writes are refused before they run, so nothing changes unaudited.
            error(f.call(app, "PUT", "/v1/secrets/db/pw", "{\"value\":\"unaudited-change\"}"), 503);
            error(f.call(admin, "DELETE", "/v1/secrets/db/pw", null), 503);
            error(f.call(admin, "GET", "/v1/whoami", null), 503);

            // The server stays responsive: probes and metrics keep answering.
            HttpResponse<String> health = f.management("GET", "/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(f.management("GET", "/readyz").statusCode()).isEqualTo(503);
            String metrics = f.management("GET", "/metrics").body();
            assertThat(metricValue(metrics, "tresor_audit_failures_total")).isGreaterThanOrEqualTo(5);
            assertThat(metrics).contains("status=\"503\"");

            Caller adminCaller = f.server().tresor().authenticate(ServerFixture.ADMIN_IDENTITY);
            var meta = f.server().tresor().secrets().meta(adminCaller, "db/pw");
            assertThat(meta.latestVersion()).isEqualTo(1);
            assertThat(meta.deletedAt()).isNull();
            assertThat(Files.readString(f.auditFile())).doesNotContain("never-served-value").doesNotContain("unaudited-change");
        }
    }

    static double metricValue(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void anAuditLogThatCannotBeOpenedRefusesTheStart() throws IOException {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            f.stopServer();
            Files.move(f.auditFile(), dir.resolve("audit.log.evidence"));
            Files.createDirectory(f.auditFile());
            assertThatThrownBy(f::startServer).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("audit.sinks[0].path:").hasMessageContaining("not a regular file");
            Files.delete(f.auditFile());
            Files.move(dir.resolve("audit.log.evidence"), f.auditFile());
            f.startServer();
            ok(f.call(f.admin(), "GET", "/v1/whoami", null), 200);
        }
    }

    @Test
    void valuesNeverReachTheAuditLogOrTheServerLog() throws Exception {
        // Letters and digits only, so a parser quoting "the offending token" would quote all of it.
        String value = "V4lue" + Long.toHexString(new java.security.SecureRandom().nextLong() | 1L << 60);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        System.setOut(new PrintStream(tee(originalOut, captured), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(tee(originalErr, captured), true, StandardCharsets.UTF_8));
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"), 201);
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"write\"}"), 200);
            ok(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\",\"groups\":[\"app\"]}"), 201);
            String b64 = Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
            ok(f.call(admin, "PUT", "/v1/secrets/s", "{\"valueBase64\":\"" + b64 + "\",\"cas\":1}"), 200);
            assertThat(ok(f.call(admin, "GET", "/v1/secrets/s", null), 200).get("value").asText()).isEqualTo(value);
            HttpResponse<String> raw = f.send(admin, HttpRequest.newBuilder(f.api("/v1/secrets/s"))
                    .header("Accept", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(raw.body()).isEqualTo(value);
            ok(f.call(admin, "GET", "/v1/secrets/s?version=1", null), 200);

            // Mistakes that carry the value: none may echo it into the audit detail or a log line.
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\": " + value + "}"), 400);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\",\"cas\":\"" + value + "\"}"), 400);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\",\"junk\":\"" + value + "\"}"), 400);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\",\"cas\":7}"), 409);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\",\"ttl\":\"" + "soon\"}"), 400);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "x".repeat(1024 * 1024) + "\"}"), 413);
            error(f.call(admin, "PUT", "/v1/secrets/s", "[\"" + value + "\"]"), 400);
            error(f.call(admin, "PUT", "/v1/secrets/s", "{\"value\":\"" + value + "\"" + value + "}"), 400);
            f.stopServer();

            String audit = Files.readString(f.auditFile());
            assertThat(audit).contains("secret.read").contains("secret.write");
            assertThat(audit).doesNotContain(value).doesNotContain(b64)
                    .doesNotContain(HexFormat.of().formatHex(value.getBytes(StandardCharsets.UTF_8)));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(log).as("the server log was captured").contains("Tresor API listening");
        assertThat(log).doesNotContain(value);
    }

    private static OutputStream tee(OutputStream a, OutputStream b) {
        return new OutputStream() {
            @Override
            public void write(int c) throws IOException {
                a.write(c);
                synchronized (b) {
                    b.write(c);
                }
            }

            @Override
            public void write(byte[] buf, int off, int len) throws IOException {
                a.write(buf, off, len);
                synchronized (b) {
                    b.write(buf, off, len);
                }
            }

            @Override
            public void flush() throws IOException {
                a.flush();
            }
        };
    }
}
