package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI side of rotation: registration, help, and a bad definition named before anything is contacted. */
class RotateCommandTest {

    @TempDir
    Path home;

    @Test
    void rotateHasRunVerifyAndStatus() {
        CliHarness.Run help = CliHarness.run(Map.of(), home, "rotate", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("run", "verify", "status");
        CliHarness.Run run = CliHarness.run(Map.of(), home, "rotate", "run", "--help");
        assertThat(run.out()).contains("--config", "--dry-run", "--sync-db-users", "--json");
    }

    @Test
    void aBadDefinitionIsAUsageErrorNamingTheField() throws Exception {
        Path config = Files.writeString(home.resolve("r.yaml"), """
                name: openemr
                target:
                  kind: oracle
                """);
        CliHarness.Run run = CliHarness.run(Map.of(), home, "rotate", "run", "--config", config.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("target.kind must be mariadb, mysql or postgresql");
    }

    @Test
    void aMissingConnectionIsAUsageError() throws Exception {
        Path template = Files.writeString(home.resolve("t"), "{{username}} {{password}}");
        Path config = Files.writeString(home.resolve("r.yaml"), """
                name: openemr
                target:
                  kind: postgresql
                  role: app
                  grants:
                    - privileges: [CONNECT]
                      on: database
                secrets:
                  slots: app/slots
                  admin: app/admin
                consumers:
                  - kind: file
                    path: out.conf
                    templateFile: %s
                """.formatted(template));
        CliHarness.Run run = CliHarness.run(Map.of(), home, "rotate", "verify", "--config", config.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("TRESOR_ADDR");
    }

    @Test
    void theCrashHookNamesAnUnknownStep() throws Exception {
        Path template = Files.writeString(home.resolve("t"), "{{username}} {{password}}");
        Path config = Files.writeString(home.resolve("r.yaml"), """
                name: openemr
                target:
                  kind: mariadb
                  role: app
                  grants:
                    - privileges: [SELECT]
                      on: "*"
                secrets:
                  slots: app/slots
                  admin: app/admin
                consumers:
                  - kind: file
                    path: out.conf
                    templateFile: %s
                """.formatted(template));
        CliHarness.Run run = CliHarness.run(Map.of("TRESOR_ROTATE_CRASH_AT", "nowhere", "TRESOR_ADDR", "https://127.0.0.1:1",
                "TRESOR_CERT", "c", "TRESOR_KEY", "k", "TRESOR_CA", "a"), home, "rotate", "run", "--config", config.toString());
        assertThat(run.exitCode()).isNotZero();
    }
}
