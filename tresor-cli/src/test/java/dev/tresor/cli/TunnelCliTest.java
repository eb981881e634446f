package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tresor tunnel is registered; its errors are one line naming the flag, never a stack trace. */
class TunnelCliTest {

    @TempDir
    Path home;

    @Test
    void tunnelIsRegisteredAndRefusesBadFlagsByName() {
        CliHarness.Run help = CliHarness.run(Map.of(), home, "tunnel", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("server", "client", "--config");
        CliHarness.Run serverHelp = CliHarness.run(Map.of(), home, "tunnel", "server", "--help");
        assertThat(serverHelp.out()).contains("--allow", "--ca-bundle", "--crl", "--drain-timeout");

        CliHarness.Run missing = CliHarness.run(Map.of(), home, "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:1", "--allow", "spiffe://tresor.local/ns/a/sa/b", "--cert",
                home.resolve("none.crt").toString(), "--key", "k", "--ca-bundle", "c");
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).startsWith("tresor: --cert: file").doesNotContain("Exception");

        CliHarness.Run badPattern = CliHarness.run(Map.of(), home, "tunnel", "client", "--listen", "127.0.0.1:0",
                "--target", "db:3307", "--expect", "spiffe://tresor.local/ns/sa-*", "--cert", "a", "--key", "k",
                "--ca-bundle", "c");
        assertThat(badPattern.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(badPattern.err()).startsWith("tresor: --expect: identity pattern");

        CliHarness.Run failoverWithoutIdentity = CliHarness.run(Map.of(), home, "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:1", "--allow", "spiffe://tresor.local/ns/a/sa/b", "--cert", "a", "--key", "k",
                "--ca-bundle", "c", "--failover", "https://b:8443");
        assertThat(failoverWithoutIdentity.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(failoverWithoutIdentity.err()).startsWith("tresor: --failover: only a tunnel with --identity");

        CliHarness.Run plainFailover = CliHarness.run(Map.of(), home, "tunnel", "server", "--listen", "127.0.0.1:0",
                "--target", "127.0.0.1:1", "--allow", "spiffe://tresor.local/ns/a/sa/b", "--identity", home.toString(),
                "--failover", "https://b:8443,http://c:8443");
        assertThat(plainFailover.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(plainFailover.err()).startsWith("tresor: --failover: 'http://c:8443' must be https://HOST:PORT");

        CliHarness.Run config = CliHarness.run(Map.of(), home, "tunnel", "--config", home.resolve("t.yaml").toString());
        assertThat(config.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(config.err()).contains("does not exist");
    }
}
