package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.StepHook;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.rotation.config.RotationConfigLoader;
import dev.tresor.testkit.IssuedCert;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The Rotation page after two real rotations and a third that fails validation and is rolled back:
 * tresor-rotation's engine, as its own client identity, rotates a real MariaDB's slot users through
 * the real server; the console (the admin) then shows the timeline in a real Chromium and, on a
 * click, the active slot.
 */
class UiRotationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SLOTS = "openemr/db-slots";
    private static final String ADMIN = "openemr/db-admin";

    @TempDir
    Path dir;

    @Test
    void theTimelineShowsTwoRotationsAndARolledBackOneAndTheActiveSlotOnAClick() throws Exception {
        try (UiRig rig = new UiRig(Files.createDirectories(dir.resolve("server")));
             LocalMariaDb db = LocalMariaDb.start(Files.createDirectories(dir.resolve("mariadb")))) {
            db.prepare("openemr", "rotation_admin", "initial-admin-password");
            IssuedCert rotator = rig.client("rotator");
            rig.admin("POST", "/v1/groups", "{\"name\":\"openemr-rotation\"}", 201);
            rig.admin("PUT", "/v1/groups/openemr-rotation/clients/rotator", "{\"role\":\"write\"}", 200);
            rig.admin("PUT", "/v1/groups/openemr-rotation/clients/admin", "{\"role\":\"read\"}", 200);
            rig.put(SLOTS, escaped(slots(db)), "{\"groups\":[\"openemr-rotation\"]}");
            rig.put(ADMIN, escaped(login(db, "rotation_admin", "initial-admin-password")), "{\"groups\":[\"openemr-rotation\"]}");

            IssuedCert.PemFiles pem = rotator.writePem(dir, "rotator");
            Path ca = rig.server.pki().writeCaPem(dir.resolve("tresor-ca.crt"));
            TresorConnection connection = new TresorConnection(URI.create("https://localhost:" + rig.server.apiPort()),
                    pem.certificate(), pem.privateKey(), ca);
            Path config = dir.resolve("rotation.yaml");
            Files.writeString(config, """
                    name: openemr
                    target:
                      kind: mariadb
                      tls:
                        mode: disable
                      role: openemr_app
                      grants:
                        - privileges: [SELECT, INSERT, UPDATE, DELETE]
                          on: "*"
                    secrets:
                      slots: %s
                      admin: %s
                    consumers:
                      - kind: command
                        command: ["/bin/sh", "-c", "echo reload $TRESOR_ROTATION_SLOT >> %s"]
                        timeout: 10s
                    timeouts:
                      connect: 5s
                      appReady: 5s
                      drain: 0s
                    """.formatted(SLOTS, ADMIN, dir.resolve("reloads.log")));
            for (int run = 1; run <= 2; run++) {
                try (RotationJob job = new RotationJob(RotationConfigLoader.load(config), connection, RotationListener.SILENT,
                        StepHook.NONE)) {
                    RotationReport report = job.engine().run(new RunOptions(false, false));
                    assertThat(report.ok()).as("rotation " + run + ": " + report.error()).isTrue();
                }
            }

            // A third run whose validation fails: the engine rolls the consumers back and records the old slot as current.
            Files.writeString(config, Files.readString(config) + "validation:\n  sql: \"SELECT 1 FROM no_such_table\"\n");
            try (RotationJob job = new RotationJob(RotationConfigLoader.load(config), connection, RotationListener.SILENT,
                    StepHook.NONE)) {
                RotationReport report = job.engine().run(new RunOptions(false, false));
                assertThat(report.ok()).as("the third rotation must fail validation").isFalse();
            }

            TresorConsole console = rig.start(rig.settings(rig.server.admin()).withRotations(List.of(SLOTS)));
            try (Browser browser = new Browser(Files.createDirectories(dir.resolve("chromium-profile")))) {
                browser.open(console.loginUrl().toString());
                browser.navigate("#nav-rotation");
                WebElement section = browser.find("section[data-slots='" + SLOTS + "']");
                List<String> events = browser.texts("section[data-slots='" + SLOTS + "']",
                        "table.timeline tbody tr td:nth-child(2)");
                assertThat(events.stream().filter(e -> e.equals("flip")).count()).as(events.toString()).isEqualTo(2);
                assertThat(events.stream().filter(e -> e.startsWith("commit")).count()).as(events.toString()).isEqualTo(2);
                // The third run: its pending version was abandoned and the old slot written back as current.
                assertThat(events.subList(events.size() - 2, events.size())).containsExactly(
                        "pending abandoned (the run failed before the flip)", "recorded as current (rollback or repair)");
                assertThat(section.findElement(By.cssSelector(".last-run")).getText())
                        .endsWith("(failed: recorded as current (rollback or repair))");
                assertThat(section.getText()).contains("rotator");
                long reads = rig.audited("secret.read", SLOTS, "allowed");
                browser.navigate("section[data-slots='" + SLOTS + "'] button.read-active-slot");
                // Started on B: the first rotation made A active, the second B again; the third was rolled back.
                assertThat(browser.text("section[data-slots='" + SLOTS + "'] .active-slot strong")).isEqualTo("B");
                assertThat(rig.audited("secret.read", SLOTS, "allowed")).isEqualTo(reads + 1);
                assertThat(browser.driver.getPageSource()).doesNotContain("password\"");
                browser.screenshot("rotation");

                browser.open(console.address() + "/rotation?name=" + URLEncoder.encode("no/such-slots", StandardCharsets.UTF_8));
                assertThat(browser.find("section[data-slots='no/such-slots'] .error").getText()).contains("does not exist");
            }
        }
    }

    private static String slots(LocalMariaDb db) throws Exception {
        ObjectNode slots = JSON.createObjectNode();
        slots.put("active_slot", "B");
        slots.set("A", JSON.readTree(login(db, "openemr_a", "slot-a-initial-password")));
        slots.set("B", JSON.readTree(login(db, "openemr_b", "slot-b-initial-password")));
        return JSON.writeValueAsString(slots);
    }

    private static String login(LocalMariaDb db, String user, String password) throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("username", user).put("password", password).put("host", "127.0.0.1").put("port", db.port)
                .put("dbname", "openemr");
        return JSON.writeValueAsString(n);
    }

    /** UiRig.put writes the value into a JSON string as is: escape the document's quotes. */
    private static String escaped(String json) {
        return json.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
