package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The console in a real headless Chromium against a real server: log in with the one-time URL, browse,
 * reveal as an allowed and as a refused identity, write, filter the audit log, see health, then
 * tamper with the audit file and see the broken record. The steps build on one another (one server,
 * one browser), so they run in order; each page's screenshot goes to target/ui-screenshots/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UiBrowserTest {

    @TempDir
    static Path dir;

    private UiRig rig;
    private Browser browser;
    private TresorConsole admin;
    private long started;

    @BeforeAll
    void start() throws IOException {
        started = System.nanoTime();
        Path serverDir = Files.createDirectories(dir.resolve("server"));
        rig = new UiRig(serverDir);
        admin = rig.adminConsole();
        browser = new Browser(Files.createDirectories(dir.resolve("chromium-profile")));
    }

    @AfterAll
    void stop() throws IOException {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            rig.close();
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000;
        Files.createDirectories(Browser.SCREENSHOTS);
        Files.writeString(Browser.SCREENSHOTS.resolve("timing.txt"),
                "UiBrowserTest: server, console, Chromium and all steps took " + seconds + " s\n");
        System.out.println("UiBrowserTest took " + seconds + " s");
    }

    private String page(String path) {
        return admin.address() + path;
    }

    private static String encoded(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8);
    }

    @Test
    @Order(1)
    void logInWithTheOneTimeUrlAndBrowseTheTree() {
        URI login = admin.loginUrl();
        browser.open(login.toString());
        assertThat(browser.path()).isEqualTo("/secrets");
        WebElement tree = browser.find("#secret-tree");
        assertThat(browser.texts("#secret-tree", "tr.folder"))
                .contains("▾ openemr/", "▾ db/", "▾ billing/");
        assertThat(tree.findElement(By.cssSelector("tr[data-name='" + UiRig.GRANTED + "']")).getText())
                .contains("password", "v2", "stable→v1", "ops");
        browser.screenshot("secrets");

        // Collapsing a folder (the console's script) hides what is under it.
        browser.click("button.toggle[data-folder='openemr/']");
        assertThat(tree.findElement(By.cssSelector("tr[data-name='" + UiRig.GRANTED + "']")).isDisplayed()).isFalse();
        browser.click("button.toggle[data-folder='openemr/']");

        // The same link a second time is refused; the session stays.
        browser.open(login.toString());
        assertThat(browser.text("#message")).contains("already used");
        browser.open(page("/secrets"));
        assertThat(browser.find("#secret-tree").getText()).contains("password");
    }

    @Test
    @Order(2)
    void revealIsAnAuditedReadOnlyOnAnExplicitClick() {
        browser.open(page("/secrets"));
        browser.navigate("a[href='/secret?name=" + encoded(UiRig.GRANTED) + "']");
        assertThat(browser.text("#secret-name")).isEqualTo(UiRig.GRANTED);
        assertThat(browser.texts("#versions", "tbody tr")).hasSize(2);
        assertThat(browser.text("#labels")).contains("stable→v1");
        assertThat(browser.driver.getPageSource()).doesNotContain(UiRig.GRANTED_VALUE);
        long before = rig.audited("secret.read", UiRig.GRANTED, "allowed");

        browser.navigate("#reveal-current");
        assertThat(browser.text("#revealed-value")).isEqualTo(UiRig.GRANTED_VALUE);
        assertThat(rig.audited("secret.read", UiRig.GRANTED, "allowed")).isEqualTo(before + 1);
        browser.screenshot("secret-revealed");

        browser.navigate("#versions tr[data-version='1'] button.reveal-version");
        assertThat(browser.text("#revealed-value")).isEqualTo("first-version-value");
    }

    @Test
    @Order(3)
    void anAdminWithoutAGroupGrantIsRefusedTheValueWithTheServersReason() {
        browser.open(page("/secret?name=" + encoded(UiRig.NOT_GRANTED)));
        assertThat(browser.text("#groups")).isEqualTo("finance");
        browser.navigate("#reveal-current");
        assertThat(browser.text("#reveal-refused")).contains("may not read", "admins read values only through a group");
        assertThat(browser.driver.getPageSource()).doesNotContain("sk_live_never_shown");
        assertThat(rig.audited("secret.read", UiRig.NOT_GRANTED, "denied")).isEqualTo(1);
        browser.screenshot("secret-refused");
    }

    @Test
    @Order(4)
    void aClientWithoutAccessSeesNothingAndIsRefusedOnReveal() {
        TresorConsole intern = rig.start(rig.settings(rig.intern));
        // "localhost", not 127.0.0.1: cookies ignore ports, and the admin's session must stay apart.
        String base = "http://localhost:" + intern.address().getPort();
        browser.open(base + "/login?" + intern.loginUrl().getQuery());
        assertThat(browser.texts("#secret-tree", "tr.secret")).isEmpty();
        browser.open(base + "/secret?name=" + encoded(UiRig.GRANTED));
        assertThat(browser.text("#not-visible")).contains("cannot see");
        browser.navigate("#reveal-current");
        assertThat(browser.text("#reveal-refused")).contains("access denied");
        assertThat(browser.driver.getPageSource()).doesNotContain(UiRig.GRANTED_VALUE);
        browser.screenshot("secret-refused-identity");
        browser.open(base + "/audit");
        assertThat(browser.text("#error")).contains("only admins may read the audit log");
    }

    @Test
    @Order(5)
    void expiringSoonListsCurrentVersionsWithinTheWindow() {
        browser.open(page("/secrets"));
        browser.navigate("#nav-expiring");
        WebElement table = browser.find("#expiring");
        assertThat(table.getText()).contains(UiRig.EXPIRING).doesNotContain(UiRig.GRANTED);
        browser.screenshot("expiring");
        WebElement days = browser.find("input[name='days']");
        days.clear();
        days.sendKeys("100");
        browser.navigate(".filter button");
        assertThat(browser.find("#expiring").getText()).contains(UiRig.EXPIRING, UiRig.GRANTED);
    }

    @Test
    @Order(6)
    void writeActionsMoveALabelAddAVersionDeleteAndRestore() {
        browser.open(page("/secret?name=" + encoded(UiRig.GRANTED)));
        browser.find("input[name='label']").sendKeys("stable");
        browser.find("form[action='/secret/label'] input[name='version']").sendKeys("2");
        browser.navigate("#move-label");
        assertThat(browser.text("#notice")).contains("label moved");
        assertThat(browser.text("#labels")).contains("stable→v2");

        browser.find("input[name='value']").sendKeys("third-value");
        browser.navigate("#add-version");
        assertThat(browser.text("#notice")).contains("version added");
        assertThat(browser.texts("#versions", "tbody tr")).hasSize(3);

        String bundle = "mesh/ca/bundle";
        browser.open(page("/secret?name=" + encoded(bundle)));
        browser.click("#delete"); // without the typed name: refused, nothing deleted
        // The browser's own "required" check stops the empty form; type a wrong name to reach the server.
        browser.find("input[name='confirm']").sendKeys("mesh/ca");
        browser.navigateConfirming("#delete");
        assertThat(browser.text("#problem")).contains("type the secret's full name");
        browser.find("input[name='confirm']").sendKeys(bundle);
        browser.navigateConfirming("#delete");
        assertThat(browser.text("#notice")).contains("deleted");
        assertThat(rig.audited("secret.delete", bundle, "allowed")).isEqualTo(1);
        browser.navigateConfirming("#restore");
        assertThat(browser.text("#notice")).contains("restored");
        assertThat(rig.audited("secret.restore", bundle, "allowed")).isEqualTo(1);
    }

    @Test
    @Order(7)
    void theAuditLogFiltersAndShowsTheChainVerified() {
        browser.open(page("/secrets"));
        browser.navigate("#nav-audit");
        assertThat(browser.text("#chain-status")).contains("Chain verified", "records intact");
        browser.find("input[name='secret']").sendKeys(UiRig.GRANTED);
        new Select(browser.find("select[name='action']")).selectByValue("secret.read");
        new Select(browser.find("select[name='outcome']")).selectByValue("denied");
        browser.navigate("#apply-filter");
        List<String> rows = browser.texts("#audit", "tbody tr");
        assertThat(rows).isNotEmpty();
        for (String row : rows) {
            assertThat(row).contains("secret.read", UiRig.GRANTED, "denied", "403");
        }
        browser.screenshot("audit");

        new Select(browser.find("select[name='outcome']")).selectByValue("allowed");
        browser.navigate("#apply-filter");
        assertThat(browser.texts("#audit", "tbody tr"))
                .hasSize((int) rig.audited("secret.read", UiRig.GRANTED, "allowed"));
    }

    @Test
    @Order(8)
    void theAccessGraphAnswersWhoCanReadNextToWhoDidRead() {
        browser.open(page("/secrets"));
        browser.navigate("#nav-access");
        new Select(browser.find("select[name='secret']")).selectByValue(UiRig.GRANTED);
        browser.navigate("#ask");
        assertThat(browser.text("#can-read")).contains("admin ops write");
        WebElement didRead = browser.find("#did-read");
        long allowed = rig.audited("secret.read", UiRig.GRANTED, "allowed");
        assertThat(didRead.findElement(By.xpath(".//tr[td[1]='admin']")).getText())
                .isEqualTo("admin " + UiRig.GRANTED + " " + allowed + " 0 " + lastRead(didRead, "admin"));
        assertThat(didRead.findElement(By.xpath(".//tr[td[1]='intern']")).getText()).contains(UiRig.GRANTED + " 0 1");
        // The bundled Cytoscape.js drew the graph (a canvas) with the selected secret's paths.
        browser.find("#graph[data-ready='true'] canvas");
        browser.screenshot("access");

        new Select(browser.find("select[name='secret']")).selectByValue("");
        new Select(browser.find("select[name='client']")).selectByValue("intern");
        browser.navigate("#ask");
        assertThat(browser.text("#can-read-none")).contains("Nobody");
        assertThat(browser.text("#did-read")).contains("intern " + UiRig.GRANTED + " 0 1");
    }

    private static String lastRead(WebElement table, String client) {
        return table.findElement(By.xpath(".//tr[td[1]='" + client + "']/td[5]")).getText();
    }

    @Test
    @Order(9)
    void healthShowsTheApiAndEachServersReadinessVersionAndAlarms() {
        browser.open(page("/secrets"));
        browser.navigate("#nav-health");
        assertThat(browser.text("#api-health")).contains("yes", "spiffe://");
        assertThat(browser.text("#nodes")).contains("200 ready", "none");
        browser.screenshot("health");
    }

    @Test
    @Order(10)
    void aTamperedAuditFileShowsTheFirstBrokenRecord() throws IOException {
        Path log = rig.server.auditFile();
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        int target = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.contains("\"secret.read\"") && line.contains(UiRig.GRANTED) && line.contains("\"allowed\"")) {
                target = i;
                break;
            }
        }
        assertThat(target).as("an allowed read of " + UiRig.GRANTED + " in the audit log").isNotNegative();
        long offset = 0;
        for (int i = 0; i < target; i++) {
            offset += lines.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        }
        // An insider rewrites the record of a read in place: same length, so later lines stay where they are.
        offset += lines.get(target).substring(0, lines.get(target).indexOf("\"allowed\"")).getBytes(StandardCharsets.UTF_8).length;
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "rw")) {
            file.seek(offset);
            file.write("\"errored\"".getBytes(StandardCharsets.UTF_8));
        }

        browser.open(page("/audit"));
        String status = browser.text("#chain-status");
        assertThat(status).contains("Chain BROKEN", "line " + (target + 1), "MAC mismatch");
        assertThat(browser.text("#broken-record")).contains("\"errored\"", UiRig.GRANTED);
        assertThat(browser.texts("#audit", "tr.unverified")).isNotEmpty();
        browser.screenshot("audit-broken");
    }

    @Test
    @Order(11)
    void aRowEditedInTheDatabaseRaisesAnIntegrityAlarmOnTheHealthPage() throws Exception {
        String guarded = "mesh/ca/bundle";
        // Someone with write access to the database, but not to the KEK, edits the row.
        try (java.sql.Connection db = java.sql.DriverManager.getConnection("jdbc:sqlite:"
                + rig.server.dir().resolve("tresor.db")); java.sql.Statement sql = db.createStatement()) {
            sql.execute("PRAGMA busy_timeout = 10000");
            assertThat(sql.executeUpdate("UPDATE secrets SET description = 'edited behind Tresor''s back' WHERE name = '"
                    + guarded + "'")).isEqualTo(1);
        }
        browser.open(page("/secret?name=" + encoded(guarded)));
        browser.navigate("#reveal-current");
        assertThat(browser.text("#reveal-refused")).contains("integrity");
        browser.navigate("#nav-health");
        assertThat(browser.text("#nodes")).contains("tresor_integrity_violations_total = ", "tampering detected");
        browser.screenshot("health-alarm");
    }
}
