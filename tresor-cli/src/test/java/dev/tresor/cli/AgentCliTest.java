package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tresor agent is registered; a bad config is one line naming the problem, never a stack trace. */
class AgentCliTest {

    @TempDir
    Path home;

    @Test
    void agentIsRegisteredAndRefusesAMissingConfig() {
        CliHarness.Run help = CliHarness.run(Map.of(), home, "agent", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--config", "--once", "--allow-disk", "APP");

        CliHarness.Run missing = CliHarness.run(Map.of(), home, "agent", "--config", home.resolve("agent.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).startsWith("tresor: config file").contains("does not exist").doesNotContain("Exception");
    }
}
