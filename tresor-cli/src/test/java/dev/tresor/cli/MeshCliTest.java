package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tresor mesh is registered and runs in-process like every other command. */
class MeshCliTest {

    @TempDir
    Path home;

    private static final String TOPOLOGY = Path.of("..", "examples", "openemr", "topology.yaml").toString();

    @Test
    void meshRenderAndCheckRun() {
        CliHarness.Run help = CliHarness.run(Map.of(), home, "mesh", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("render", "check");
        CliHarness.Run render = CliHarness.run(Map.of(), home, "mesh", "render", "--topology", TOPOLOGY, "--egress-only");
        assertThat(render.exitCode()).as(render.err()).isZero();
        assertThat(render.out()).contains("kind: EgressFirewall", "dnsName: open-emr.org");
        CliHarness.Run check = CliHarness.run(Map.of(), home, "mesh", "check", "--topology", TOPOLOGY);
        assertThat(check.exitCode()).as(check.err()).isEqualTo(ExitCodes.OK);
        assertThat(check.out()).contains("OK: default-deny with exactly the topology's edges");
        CliHarness.Run missing = CliHarness.run(Map.of(), home, "mesh", "check", "--topology", home.resolve("none.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).startsWith("tresor: cannot read topology");
    }
}
