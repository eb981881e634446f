package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor token create, cert join, cert renew and cert revoke in-process against a real server
 * (a tresor init folder with a join port): the commands a workload and an admin run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertCliTest {

    private static final String IDENTITY = "spiffe://tresor.test/ns/openemr/sa/mariadb";

    @TempDir
    static Path tmp;

    private TresorServer server;
    private Map<String, String> admin;
    private Path folder;

    @BeforeAll
    void start() throws Exception {
        folder = tmp.resolve("server");
        DataFolder data = new DataFolder(folder);
        DataFolder.AdminCredentials credentials = data.create(new DataFolder.Options("tresor.test", "127.0.0.1:0",
                "127.0.0.1:0", List.of(), "admin", Duration.ofDays(1), null), Clock.systemUTC());
        String yaml = Files.readString(data.config());
        Files.writeString(data.config(), yaml.replace("listen:\n", "listen:\n  join: \"127.0.0.1:0\"\n"));
        server = TresorServer.start(ConfigLoader.load(data.config()));
        admin = new HashMap<>();
        admin.put("TRESOR_ADDR", "https://127.0.0.1:" + server.apiPort());
        admin.put("TRESOR_CERT", credentials.cert().toString());
        admin.put("TRESOR_KEY", credentials.key().toString());
        admin.put("TRESOR_CA", credentials.ca().toString());
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aWorkloadJoinsWithTheCaFingerprintTokenCreatePrintsInsteadOfACaFile() throws Exception {
        String identity = "spiffe://tresor.test/ns/openemr/sa/pinned";
        CliHarness.Run created = CliHarness.run(admin, tmp, "client", "create", "pinned", "--identity", identity,
                "--out", tmp.resolve("pinned-out").toString());
        assertThat(created.exitCode()).as(created.err()).isZero();
        CliHarness.Run token = CliHarness.run(admin, tmp, "token", "create", "--client", "pinned", "--uses", "2");
        assertThat(token.exitCode()).as(token.err()).isZero();
        java.util.regex.Matcher pin = java.util.regex.Pattern.compile("--ca-fingerprint: (sha256:[0-9a-f]{64})")
                .matcher(token.err());
        assertThat(pin.find()).as(token.err()).isTrue();
        Map<String, String> workloadEnv = Map.of("TRESOR_JOIN_TOKEN", token.out().trim());
        String joinUrl = "https://localhost:" + server.joinPort();

        CliHarness.Run wrong = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", tmp.resolve("pin-bad").toString(),
                "--server", joinUrl, "--ca-fingerprint", "sha256:" + "ab".repeat(32));
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.err()).contains("presents no CA certificate with the fingerprint");
        assertThat(tmp.resolve("pin-bad").resolve("cert.pem")).doesNotExist();
        CliHarness.Run both = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", tmp.resolve("pin-both").toString(),
                "--server", joinUrl, "--ca-fingerprint", pin.group(1), "--ca-bundle", admin.get("TRESOR_CA"));
        assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);

        Path id = tmp.resolve("pin-id");
        CliHarness.Run joined = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", id.toString(), "--server", joinUrl,
                "--api", "https://localhost:" + server.apiPort(), "--ca-fingerprint", pin.group(1));
        assertThat(joined.exitCode()).as(joined.err()).isZero();
        assertThat(joined.err()).contains("joined as " + identity);
        // The pinned CA is what renewals trust from now on.
        assertThat(Files.readString(id.resolve("server-ca.pem"))).isEqualTo(Files.readString(Path.of(admin.get("TRESOR_CA"))));
    }

    @Test
    void anAdminMakesATokenAWorkloadJoinsRenewsAndIsRevoked() throws Exception {
        Path clientOut = tmp.resolve("client-out");
        CliHarness.Run created = CliHarness.run(admin, tmp, "client", "create", "mariadb", "--identity", IDENTITY,
                "--out", clientOut.toString());
        assertThat(created.exitCode()).as(created.err()).isZero();
        CliHarness.Run token = CliHarness.run(admin, tmp, "token", "create", "--identity", IDENTITY, "--ttl", "1h");
        assertThat(token.exitCode()).as(token.err()).isZero();
        String t = token.out().trim();
        assertThat(t).startsWith("tjt1.");
        assertThat(token.err()).contains(IDENTITY).doesNotContain(t);

        Path id = tmp.resolve("id");
        String joinUrl = "https://localhost:" + server.joinPort();
        String apiUrl = "https://localhost:" + server.apiPort();
        String serverCa = admin.get("TRESOR_CA");
        Map<String, String> workloadEnv = Map.of("TRESOR_JOIN_TOKEN", t);
        CliHarness.Run joined = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", id.toString(), "--server", joinUrl,
                "--api", apiUrl, "--ca-bundle", serverCa, "--profile", "workload");
        assertThat(joined.exitCode()).as(joined.err()).isZero();
        assertThat(joined.err()).contains("joined as " + IDENTITY);
        assertThat(Files.readString(id.resolve("cert.pem"))).contains("BEGIN CERTIFICATE");
        assertThat(Files.readString(id.resolve("key.pem"))).contains("PRIVATE KEY");

        // The token was for one use.
        CliHarness.Run again = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", tmp.resolve("id2").toString(),
                "--server", joinUrl, "--ca-bundle", serverCa);
        assertThat(again.exitCode()).isEqualTo(ExitCodes.DENIED);
        assertThat(again.err()).contains("invalid, expired or used up");
        // No CA bundle, no join (no trust on first use).
        CliHarness.Run noCa = CliHarness.run(workloadEnv, tmp, "cert", "join", "--out", tmp.resolve("id3").toString(),
                "--server", joinUrl);
        assertThat(noCa.exitCode()).isEqualTo(ExitCodes.USAGE);

        String serialBefore = new dev.tresor.client.CredentialDirectory(id).load().orElseThrow().serial();
        CliHarness.Run notDue = CliHarness.run(Map.of(), tmp, "cert", "renew", "--dir", id.toString());
        assertThat(notDue.exitCode()).as(notDue.err()).isZero();
        assertThat(notDue.out()).contains("not due");
        CliHarness.Run renewed = CliHarness.run(Map.of(), tmp, "cert", "renew", "--dir", id.toString(), "--force",
                "--profile", "workload");
        assertThat(renewed.exitCode()).as(renewed.err()).isZero();
        String serialAfter = new dev.tresor.client.CredentialDirectory(id).load().orElseThrow().serial();
        assertThat(serialAfter).isNotEqualTo(serialBefore);
        assertThat(renewed.out()).contains(serialBefore + " -> " + serialAfter);

        // The workload's certificate works as a CLI identity, until an admin revokes it.
        Map<String, String> workload = Map.of("TRESOR_ADDR", apiUrl, "TRESOR_CERT", id.resolve("cert.pem").toString(),
                "TRESOR_KEY", id.resolve("key.pem").toString(), "TRESOR_CA", serverCa);
        CliHarness.Run whoami = CliHarness.run(workload, tmp, "whoami");
        assertThat(whoami.exitCode()).as(whoami.err()).isZero();
        CliHarness.Run revoked = CliHarness.run(admin, tmp, "cert", "revoke", serialAfter);
        assertThat(revoked.exitCode()).as(revoked.err()).isZero();
        assertThat(revoked.out()).contains(serialAfter);
        CliHarness.Run refused = CliHarness.run(workload, tmp, "whoami");
        assertThat(refused.exitCode()).isEqualTo(ExitCodes.DENIED);
        // A revoked certificate cannot renew itself; the old files stay.
        CliHarness.Run cannotRenew = CliHarness.run(Map.of(), tmp, "cert", "renew", "--dir", id.toString(), "--force");
        assertThat(cannotRenew.exitCode()).isEqualTo(ExitCodes.DENIED);
        assertThat(cannotRenew.err()).contains("unchanged");
        assertThat(new dev.tresor.client.CredentialDirectory(id).load().orElseThrow().serial()).isEqualTo(serialAfter);

        CliHarness.Run byIdentity = CliHarness.run(admin, tmp, "cert", "revoke", "--identity", IDENTITY);
        assertThat(byIdentity.exitCode()).as(byIdentity.err()).isZero();
        CliHarness.Run both = CliHarness.run(admin, tmp, "cert", "revoke", "abc", "--identity", IDENTITY);
        assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);
    }
}
