package dev.tresor.agent;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.client.CertificateRenewer;
import dev.tresor.client.CredentialDirectory;
import dev.tresor.client.Credentials;
import dev.tresor.client.IssuanceClient;
import dev.tresor.client.KeyMaterial;
import dev.tresor.client.RenewalPolicy;
import dev.tresor.client.ServerEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent against the real change feed: a certificate renewed under it, a store rolled back under it (410). */
class AgentFeedTest {

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

    /** A client identity as tresor cert join makes it: a join token, a key made here, a CredentialDirectory. */
    private Credentials join(String name, CredentialDirectory folder, IssuanceClient issuance) throws Exception {
        String identity = "spiffe://" + dev.tresor.server.ServerFixture.TRUST_DOMAIN + "/ns/app/sa/" + name;
        rig.admin("POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}", 201);
        rig.admin("PUT", "/v1/groups/app/clients/" + name, "{\"role\":\"read\"}", 200);
        String token = rig.admin("POST", "/v1/tokens", "{\"identity\":\"" + identity + "\"}", 201).get("token").asText();
        Credentials joined = issuance.join(rig.server.join(""), token, KeyMaterial.generateP256(), IssuanceClient.Profile.CLIENT);
        folder.install(joined);
        folder.saveServer(new ServerEndpoint(rig.server.api(""), List.of(rig.server.pki().caCertificate())));
        return joined;
    }

    /** Issue 17: the server the folder records is down (its port closed); the config's failover node renews. */
    @Test
    void aRenewalGoesToAFailoverNodeWhenTheRecordedServerIsDown() throws Exception {
        IssuanceClient issuance = new IssuanceClient(List.of(rig.server.pki().caCertificate()), Duration.ofSeconds(10));
        CredentialDirectory folder = new CredentialDirectory(rig.work.resolve("ha-identity"));
        Credentials joined = join("ha", folder, issuance);
        int closed = Rig.freePort(); // free now, and nothing listens on it
        folder.saveServer(new ServerEndpoint(java.net.URI.create("https://127.0.0.1:" + closed),
                List.of(rig.server.pki().caCertificate())));

        try (var identity = new dev.tresor.agent.identity.DirectoryIdentity(folder.dir(), null,
                List.of(rig.server.api("")), true)) {
            Credentials renewed = identity.renewNow();
            assertThat(renewed.serial()).isNotEqualTo(joined.serial());
            assertThat(folder.load().orElseThrow().serial()).isEqualTo(renewed.serial());
        }
        // Without failover: the same renewal fails (the one above did not pass for another reason).
        try (var alone = new dev.tresor.agent.identity.DirectoryIdentity(folder.dir(), null, List.of(), true)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(alone::renewNow)
                    .isInstanceOf(dev.tresor.client.IssuanceException.class);
        }
    }

    @Test
    void aRenewedCertificateIsUsedForNewConnectionsWithoutARestart() throws Exception {
        IssuanceClient issuance = new IssuanceClient(List.of(rig.server.pki().caCertificate()), Duration.ofSeconds(10));
        CredentialDirectory folder = new CredentialDirectory(rig.work.resolve("identity"));
        Credentials joined = join("joined", folder, issuance);

        rig.put("app/token", "v1");
        Path config = rig.config("credentials:\n  dir: " + folder.dir() + "\n", """
                secrets:
                  - secret: app/token
                    file: token
                """);
        try (Rig.Running agent = rig.run(config)) {
            Await.until("v1 rendered", () -> rig.holds("token", "v1"));
            Await.until("status names the joined certificate", () -> joined.serial().equals(
                    rig.status(config).path("certificateSerial").asText()));

            // Renewed in the same folder (what the agent's own renewer does at half-life, or tresor cert renew).
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
            try (CertificateRenewer renewer = new CertificateRenewer(folder, CertificateRenewer.Renewal.over(issuance,
                    rig.server.api(""), null, IssuanceClient.Profile.CLIENT), RenewalPolicy.DEFAULT, Clock.systemUTC(),
                    scheduler, List.of())) {
                Credentials renewed = renewer.renewNow();
                // The old certificate is revoked: only the renewed one can still read.
                rig.admin("POST", "/v1/ca/revoke", "{\"serial\":\"" + joined.serial() + "\"}", 200);
                rig.put("app/token", "v2");
                Await.until("v2 read with the renewed certificate", () -> rig.holds("token", "v2"));
                Await.until("status names the renewed certificate", () -> renewed.serial().equals(
                        rig.status(config).path("certificateSerial").asText()));
                assertThat(agent.thread().isAlive()).isTrue();
            } finally {
                scheduler.shutdownNow();
            }
        }
    }

    @Test
    void aStoreRolledBackBehindTheCursorAnswers410AndTheAgentReReadsEverything() throws Exception {
        rig.put("app/a", "a1");
        rig.put("app/b", "b1");
        Path backup = Files.createDirectories(rig.work.resolve("backup"));
        Path config = rig.config("""
                secrets:
                  - secret: app/a
                    file: a
                  - secret: app/b
                    file: b
                """);
        // A copy of the store taken while it held a1/b1.
        rig.server.stopServer();
        copyStore(rig.server.dir(), backup);
        rig.server.startServer();
        try (Rig.Running agent = rig.run(config)) {
            Await.until("rendered", () -> rig.holds("a", "a1") && rig.holds("b", "b1"));
            rig.put("app/a", "a2");
            rig.put("app/b", "b2");
            Await.until("a2 and b2 rendered", () -> rig.holds("a", "a2") && rig.holds("b", "b2"));
            String cursor = rig.status(config).path("cursor").asText();

            // The store goes back to the copy: the agent's cursor is now newer than any change it has.
            rig.server.stopServer();
            try (Stream<Path> files = Files.list(rig.server.dir())) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith("tresor.db")).toList()) {
                    Files.delete(p);
                }
            }
            copyStore(backup, rig.server.dir());
            rig.server.startServer("test: the store was restored from a copy");

            // 410 -> a fresh cursor and every file read again: the restored values come back.
            Await.until("a1 and b1 again after the re-list", () -> rig.holds("a", "a1") && rig.holds("b", "b1"));
            Await.until("a fresh cursor", () -> {
                JsonNode s = rig.status(config);
                return s.path("state").asText().equals("ok") && !s.path("cursor").asText().equals(cursor);
            });
        }
    }

    @Test
    void aSecretGrantedLaterAppearsAndOnceFailsWhileItIsMissing() throws Exception {
        rig.admin("POST", "/v1/groups", "{\"name\":\"other\"}", 201);
        rig.admin("PUT", "/v1/secrets/later/key", "{\"value\":\"k1\",\"groups\":[\"other\"]}", 201);
        rig.put("app/token", "t1");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    file: token
                  - secret: later/key
                    file: key
                """);
        // --once: one output cannot be read, so an init container must fail (exit 1), naming it.
        java.io.StringWriter err = new java.io.StringWriter();
        int once = new picocli.CommandLine(new dev.tresor.agent.cli.AgentCommand()).setErr(new java.io.PrintWriter(err))
                .execute("--config", config.toString(), "--once");
        assertThat(once).isEqualTo(1);
        assertThat(rig.read("token")).isEqualTo("t1");
        assertThat(rig.read("key")).isNull();

        try (Rig.Running agent = rig.run(config)) {
            // This agent's own status (it has a cursor; the --once run above wrote none).
            Await.until("status: key missing", () -> {
                JsonNode s = rig.status(config);
                return s.path("cursor").isTextual() && "ok".equals(s.path("state").asText())
                        && "missing".equals(s.path("files").path("key").path("state").asText());
            });
            assertThat(rig.read("key")).isNull();
            rig.admin("PUT", "/v1/groups/app/secrets/later/key", null, 200, 201, 204);
            Await.until("the granted secret is rendered", () -> rig.holds("key", "k1"));
        }
    }

    private static void copyStore(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith("tresor.db")).toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
