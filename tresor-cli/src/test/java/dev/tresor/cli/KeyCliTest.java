package dev.tresor.cli;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tresor key status, rotate, migrate and ca rotate in-process against a real server (a tresor init folder). */
class KeyCliTest {

    @TempDir
    Path tmp;

    private DataFolder data;
    private DataFolder.AdminCredentials credentials;

    /** A tresor init folder at {@code tmp/server}, as each test starts from; sets {@link #data} and {@link #credentials}. */
    private Path initFolder() {
        Path folder = tmp.resolve("server");
        data = new DataFolder(folder);
        credentials = data.create(new DataFolder.Options("tresor.test", "127.0.0.1:0", "127.0.0.1:0", List.of(), "admin",
                Duration.ofDays(1), null), Clock.systemUTC());
        return folder;
    }

    @Test
    void statusShowsTheHierarchyAndRotateKekMovesItToANewKeyFileWhileTheServerRuns() throws Exception {
        Path folder = initFolder();
        Path keyFile = folder.resolve("kek.json");
        String before = LocalKeyProvider.load(keyFile).keyId();
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            Map<String, String> admin = adminEnv(server, credentials);

            CliHarness.Run status = CliHarness.run(admin, tmp, "key", "status");
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out()).contains("provider:        local").contains("KEK:             " + before)
                    .contains("keyring version: 1").contains("keys:            1").contains("DATA KEYS");

            CliHarness.Run vague = CliHarness.run(admin, tmp, "key", "rotate");
            assertThat(vague.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(vague.err()).contains("--kek").contains("--keyring");

            CliHarness.Run rotated = CliHarness.run(admin, tmp, "key", "rotate", "--kek");
            assertThat(rotated.exitCode()).as(rotated.err()).isZero();
            String after = LocalKeyProvider.load(keyFile).keyId();
            assertThat(after).isNotEqualTo(before);
            assertThat(rotated.out()).contains("KEK rotated: " + before + " -> " + after).contains("keyring version 2")
                    .contains("CA key");

            CliHarness.Run keyring = CliHarness.run(admin, tmp, "key", "rotate", "--keyring");
            assertThat(keyring.exitCode()).as(keyring.err()).isZero();
            assertThat(keyring.out()).contains("keyring key rotated: keyring:").contains("re-wrapped in the background");
            CliHarness.Run settled = Await.value("key status saying the keyring rotation is done", Await.LONG, () -> {
                CliHarness.Run now = CliHarness.run(admin, tmp, "key", "status");
                assertThat(now.exitCode()).as(now.err()).isZero();
                return java.util.Optional.of(now).filter(r -> r.out().contains("keyring rotation: done"));
            });
            assertThat(settled.out()).contains("keyring rotation: done").contains("keys:            1")
                    .contains("keyring version: 4");

            CliHarness.Run json = CliHarness.run(admin, tmp, "key", "status", "-o", "json");
            assertThat(json.exitCode()).as(json.err()).isZero();
            assertThat(json.out()).contains("\"kekId\" : \"" + after + "\"").contains("\"keyringVersion\" : 4");
        }
        // The next start runs on the new key file alone.
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            assertThat(server.tresor().keyProvider().keyId()).isEqualTo(LocalKeyProvider.load(keyFile).keyId());
        }
    }

    @Test
    void migrateMovesTheKekToAnotherProviderAndABadSpecFileGetsAUsageErrorNamingTheFix() throws Exception {
        Path folder = initFolder();
        String before = LocalKeyProvider.load(folder.resolve("kek.json")).keyId();
        java.nio.file.Files.writeString(folder.resolve("kek.pass"), "a passphrase long enough for the KEK\n");
        java.nio.file.Files.setPosixFilePermissions(folder.resolve("kek.pass"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path spec = tmp.resolve("sealed.yaml");
        java.nio.file.Files.writeString(spec, "keyProvider:\n  kind: local\n  path: kek-sealed.json\n"
                + "  passphraseFile: kek.pass\n");
        Path notASpec = tmp.resolve("not-a-spec.yaml");
        java.nio.file.Files.writeString(notASpec, "kind: local\npath: kek-2.json\n");
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            Map<String, String> admin = adminEnv(server, credentials);

            CliHarness.Run missing = CliHarness.run(admin, tmp, "key", "migrate", "--to", tmp.resolve("nope.yaml").toString());
            assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(missing.err()).contains("--to").contains("nope.yaml").contains("cannot read it")
                    .contains("tresor key init");
            CliHarness.Run noBlock = CliHarness.run(admin, tmp, "key", "migrate", "--to", notASpec.toString());
            assertThat(noBlock.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(noBlock.err()).contains("no top-level 'keyProvider:' block");
            CliHarness.Run noTo = CliHarness.run(admin, tmp, "key", "migrate");
            assertThat(noTo.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(noTo.err()).contains("--to");

            CliHarness.Run migrated = CliHarness.run(admin, tmp, "key", "migrate", "--to", spec.toString());
            assertThat(migrated.exitCode()).as(migrated.err()).isZero();
            String after = server.tresor().keyProvider().keyId();
            assertThat(after).isNotEqualTo(before);
            assertThat(migrated.out()).contains("KEK migrated: " + before + " (local) -> " + after + " (local)")
                    .contains("keyring version 2").contains("CA key").contains(data.config().toString());
            assertThat(LocalKeyProvider.isSealed(folder.resolve("kek-sealed.json"))).isTrue();

            CliHarness.Run again = CliHarness.run(admin, tmp, "key", "migrate", "--to", spec.toString());
            assertThat(again.exitCode()).isNotZero();
            assertThat(again.err()).contains("holds the KEK in use already").contains("nothing changed");
        }
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            assertThat(ConfigLoader.load(data.config()).keyPassphrase()).isNotNull();
            assertThat(server.tresor().keyProvider().keyId()).isNotEqualTo(before);
        }
    }

    @Test
    void caRotateOnlineKeepsTheAdminOfTheOldCaWorkingOnATresorInitFolder() throws Exception {
        Path folder = initFolder();
        String oldCa = dev.tresor.ca.Pem.readCertificate(folder.resolve("ca.crt")).getSerialNumber().toString(16);
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            Map<String, String> admin = adminEnv(server, credentials);

            CliHarness.Run neither = CliHarness.run(admin, tmp, "ca", "rotate");
            assertThat(neither.exitCode()).isEqualTo(ExitCodes.USAGE);
            assertThat(neither.err()).contains("--config").contains("--online");

            CliHarness.Run rotated = CliHarness.run(admin, tmp, "ca", "rotate", "--online", "--overlap", "2h");
            assertThat(rotated.exitCode()).as(rotated.err()).isZero();
            String newCa = dev.tresor.ca.Pem.readCertificate(folder.resolve("ca.crt")).getSerialNumber().toString(16);
            assertThat(newCa).isNotEqualTo(oldCa);
            assertThat(rotated.out()).contains("new CA serial " + newCa).contains("retired CA serial " + oldCa);
            // tresor init's layout trusts client certificates through ca.crt, which now holds the new CA only: the
            // admin's certificate (old CA) is trusted through the retired CA, on a new connection, without a restart.
            CliHarness.Run status = CliHarness.run(admin, tmp, "key", "status");
            assertThat(status.exitCode()).as(status.err()).isZero();
        }
        try (TresorServer server = TresorServer.start(ConfigLoader.load(data.config()))) {
            Map<String, String> admin = adminEnv(server, credentials);
            CliHarness.Run status = CliHarness.run(admin, tmp, "key", "status", "-o", "json");
            assertThat(status.exitCode()).as(status.err()).isZero();
        }
    }

    private static Map<String, String> adminEnv(TresorServer server, DataFolder.AdminCredentials credentials) {
        Map<String, String> admin = new HashMap<>();
        admin.put("TRESOR_ADDR", "https://127.0.0.1:" + server.apiPort());
        admin.put("TRESOR_CERT", credentials.cert().toString());
        admin.put("TRESOR_KEY", credentials.key().toString());
        admin.put("TRESOR_CA", credentials.ca().toString());
        return admin;
    }
}
