package dev.tresor.agent;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.agent.render.Destination;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent in this JVM against a real server: rendering, propagation, reloads, revoke, outages. */
class AgentRenderTest {

    static final String SLOTS = """
            {"active_slot":"B",
             "A":{"username":"openemr_a","password":"pa'ss\\\\A","host":"db.internal","port":3306,"dbname":"openemr"},
             "B":{"username":"openemr_b","password":"it's-B","host":"db.internal","port":3306,"dbname":"openemr"}}""";

    @TempDir
    Path dir;
    Rig rig;

    @BeforeEach
    void start() throws Exception {
        rig = Rig.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    @Test
    void rendersARawFileAndTheOpenEmrTemplateOverTheSlotSecret() throws Exception {
        rig.put("openemr/api-key", "k-123\n");
        rig.put("openemr/db-slots", SLOTS);
        Path example = Path.of("..", "examples", "openemr", "agent", "sqlconf.php.peb").toAbsolutePath().normalize();
        int gid = (Integer) Files.getAttribute(rig.work, "unix:gid"); // a group this process may always give
        Path config = rig.config("""
                secrets:
                  - secret: openemr/api-key
                    file: api-key
                    mode: "0440"
                    group: "%s"
                templates:
                  - file: sqlconf.php
                    templateFile: %s
                    secrets:
                      db: {secret: openemr/db-slots, as: json}
                """.formatted(gid, example));
        try (Rig.Running agent = rig.run(config)) {
            Await.until("both files rendered", () -> rig.read("api-key") != null && rig.read("sqlconf.php") != null);
            assertThat(rig.read("api-key")).isEqualTo("k-123\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(rig.shm.resolve("api-key"))))
                    .isEqualTo("r--r-----");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(rig.shm.resolve("sqlconf.php"))))
                    .isEqualTo("r--------");
            assertThat(Files.getAttribute(rig.shm.resolve("api-key"), "unix:gid")).isEqualTo(gid);
            String php = rig.read("sqlconf.php");
            // Slot B is active: its login, with the PHP string escaping of the quote.
            assertThat(php).contains("$login  = 'openemr_b';", "$pass   = 'it\\'s-B';", "$host   = 'db.internal';",
                    "$port   = '3306';", "$dbase  = 'openemr';").doesNotContain("openemr_a");
            Await.until("status ok", () -> "ok".equals(rig.status(config).path("state").asText()));
            assertThat(rig.status(config).path("files").path("sqlconf.php").path("versions").path("openemr/db-slots").asInt())
                    .isEqualTo(1);
            assertThat(Files.readString(rig.statusFile(config))).doesNotContain("it's-B", "k-123");
        }
    }

    @Test
    void aDeadFirstNodeFailsOverToTheNextOneInTheList() throws Exception {
        rig.put("app/token", "v1");
        int dead;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = socket.getLocalPort();
        }
        Path config = rig.config("""
                server: https://localhost:%d
                failover:
                  - https://localhost:%d
                """.formatted(dead, rig.server.apiPort()),
                "credentials:\n  cert: " + rig.cert + "\n  key: " + rig.key + "\n  ca: " + rig.ca + "\n", """
                secrets:
                  - secret: app/token
                    file: token
                """);
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v1 rendered through the second node", () -> rig.holds("token", "v1"));
            rig.put("app/token", "v2");
            Await.until("v2 followed on the feed of the second node", () -> rig.holds("token", "v2"));
        }
    }

    @Test
    void aNewVersionReachesTheFileAndRunsTheReloadCommandOnce() throws Exception {
        rig.put("app/token", "v1");
        rig.put("app/other", "o1");
        Path log = rig.work.resolve("reloads.log");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                  - secret: app/other
                    file: other
                reload:
                  command: "echo \\"$TRESOR_CHANGED_FILES\\" >> %s"
                """.formatted(log));
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v1 rendered", () -> rig.holds("token", "v1") && rig.holds("other", "o1"));
            assertThat(log).doesNotExist(); // the first render is not a reload
            rig.put("app/token", "v2");
            Await.until("v2 rendered", () -> rig.holds("token", "v2"));
            Await.until("reload ran", () -> lines(log).size() == 1);
            assertThat(lines(log)).containsExactly("token");
            assertThat(rig.read("other")).isEqualTo("o1");
            assertThat(rig.shm.toFile().list()).containsExactlyInAnyOrder("token", "other");
        }
    }

    @Test
    void aBurstOfVersionsWithinTheDebounceGivesFewerReloadsThanVersions() throws Exception {
        rig.put("app/token", "v0");
        Path log = rig.work.resolve("reloads.log");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                reload:
                  command: "echo reload >> %s"
                """.formatted(log).replace("debounce: 50ms", "debounce: 3s"));
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v0 rendered", () -> rig.holds("token", "v0"));
            for (int i = 1; i <= 6; i++) {
                rig.put("app/token", "v" + i);
            }
            Await.until("the last version rendered", () -> rig.holds("token", "v6"));
            Await.until("a reload ran", () -> !lines(log).isEmpty());
            // Six versions written back to back are collected by the 3 s debounce into (nearly always) one reload.
            assertThat(lines(log).size()).isLessThan(6);
        }
    }

    @Test
    void theStatusEndpointAnswersHealthyOnlyWhileInSync() throws Exception {
        rig.put("app/token", "v1");
        int port = Rig.freePort();
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                """);
        String yaml = Files.readString(config).replace("status:\n", "status:\n  listen: 127.0.0.1:" + port + "\n");
        Files.writeString(config, yaml);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.function.IntSupplier health = () -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                        + "/healthz")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
            } catch (java.io.IOException e) {
                return -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        };
        try (Rig.Running agent = rig.run(config)) {
            Await.until("healthy", () -> health.getAsInt() == 200);
            rig.server.stopServer();
            Await.until("unhealthy while the server is down", () -> health.getAsInt() == 503);
            assertThat(rig.read("token")).isEqualTo("v1");
            rig.server.startServer();
            Await.until("healthy again", () -> health.getAsInt() == 200);
            String status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                    + "/status")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(status).contains("\"state\" : \"ok\"", "\"token\"").doesNotContain("v1");
        } finally {
            http.close();
        }
    }

    @Test
    void aSignalReloadReachesTheProcessInThePidFile() throws Exception {
        rig.put("app/token", "v1");
        Path hups = rig.work.resolve("hups");
        Path pidFile = rig.work.resolve("app.pid");
        Process app = new ProcessBuilder("/bin/sh", "-c", "trap 'echo hup >> " + hups + "' HUP; echo $$ > " + pidFile
                + "; while :; do sleep 0.05; done").start();
        try {
            Await.until("app wrote its pidfile", () -> Files.exists(pidFile) && !read(pidFile).isBlank());
            Path config = rig.config("""
                    secrets:
                      - secret: app/token
                        file: token
                    reload:
                      signal: SIGHUP
                      pidFile: %s
                    """.formatted(pidFile));
            try (Rig.Running agent = rig.run(config)) {
                Await.until("v1 rendered", () -> rig.holds("token", "v1"));
                rig.put("app/token", "v2");
                Await.until("the app got SIGHUP", () -> lines(hups).size() == 1);
                assertThat(rig.read("token")).isEqualTo("v2");
                assertThat(app.isAlive()).isTrue();
            }
        } finally {
            app.destroyForcibly().waitFor();
        }
    }

    @Test
    void aRevokedSecretsFileIsRemovedAndKeepOnRevokeKeepsIt() throws Exception {
        rig.put("app/a", "a1");
        rig.put("app/b", "b1");
        Path log = rig.work.resolve("reloads.log");
        Path config = rig.config("""
                secrets:
                  - secret: app/a
                    file: a
                  - secret: app/b
                    file: b
                reload:
                  command: ["/bin/sh", "-c", "echo x >> %s"]
                """.formatted(log));
        try (Rig.Running agent = rig.run(config)) {
            Await.until("rendered", () -> rig.holds("a", "a1") && rig.holds("b", "b1"));
            rig.revoke("app/a");
            Await.until("a removed", () -> !Files.exists(rig.shm.resolve("a")));
            Await.until("reload after removal", () -> lines(log).size() == 1);
            assertThat(rig.read("b")).isEqualTo("b1");
            Await.until("status says removed", () -> "removed".equals(rig.status(config).path("files").path("a")
                    .path("state").asText()));
        }
        Path keep = rig.config("""
                keepOnRevoke: true
                secrets:
                  - secret: app/b
                    file: b
                """);
        try (Rig.Running agent = rig.run(keep)) {
            Await.until("status ok", () -> "ok".equals(rig.status(keep).path("state").asText()));
            rig.revoke("app/b");
            Await.until("status notes the revoke", () -> rig.status(keep).path("files").path("b").path("problem")
                    .asText().contains("keepOnRevoke"));
            assertThat(rig.read("b")).isEqualTo("b1");
        }
    }

    @Test
    void aServerOutageKeepsTheFilesAndTheAgentCatchesUpWhenItReturns() throws Exception {
        rig.put("app/token", "v1");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                """);
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v1 rendered", () -> rig.holds("token", "v1"));
            rig.server.stopServer();
            Await.until("status degraded", () -> "degraded".equals(rig.status(config).path("state").asText())
                    && rig.status(config).path("consecutiveFailures").asInt() >= 2);
            assertThat(rig.read("token")).isEqualTo("v1");
            assertThat(rig.status(config).path("lastError").asText()).contains("cannot reach");
            rig.server.startServer();
            rig.put("app/token", "v2");
            Await.until("v2 after the outage", () -> rig.holds("token", "v2"));
            Await.until("status ok again", () -> "ok".equals(rig.status(config).path("state").asText()));
        }
    }

    @Test
    void newCertificateFilesAreUsedWithoutARestart() throws Exception {
        rig.put("app/token", "v1");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                """);
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v1 rendered", () -> rig.holds("token", "v1"));
            String before = rig.status(config).path("certificateSerial").asText();
            // What cert-manager or a cron job does: new key and certificate for the same identity.
            dev.tresor.testkit.IssuedCert renewed = rig.server.pki().client(Rig.AGENT);
            renewed.writePem(rig.work, "agent");
            String serial = renewed.certificate().getSerialNumber().toString(16);
            assertThat(serial).isNotEqualTo(before);
            rig.put("app/token", "v2");
            Await.until("v2 rendered", () -> rig.holds("token", "v2"));
            Await.until("the status names the new certificate", () -> serial.equals(
                    rig.status(config).path("certificateSerial").asText()));
        }
    }

    @Test
    void aDiskBackedDestinationIsRefusedWithTheReason() throws Exception {
        Path disk = rig.work.resolve("on-disk");
        assertThat(Files.getFileStore(rig.work).type()).isNotIn("tmpfs", "ramfs");
        assertThatThrownBy(() -> Destination.open(disk, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not tmpfs or ramfs")
                .hasMessageContaining("would reach the disk")
                .hasMessageContaining("--allow-disk");
        assertThat(disk).doesNotExist();
        assertThat(Destination.open(disk, true).dir()).isDirectory();
    }

    @Test
    void leftoverTemporaryFilesAreRemovedAtStart() throws Exception {
        Path leftover = rig.shm.resolve(".tresor-agent-token-0123456789ab.tmp");
        Files.writeString(leftover, "half");
        Destination.open(rig.shm, false);
        assertThat(leftover).doesNotExist();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}
