package dev.tresor.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MeshCommandTest {

    private static final String TOPOLOGY = Path.of("..", "examples", "openemr", "topology.yaml").toString();

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new MeshCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void renderPrintsTheGoldenStream() throws IOException {
        Run run = run("render", "--topology", TOPOLOGY, "--netpol-only");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo(Files.readString(Path.of("src/test/resources/dev/tresor/mesh/golden/openemr-netpol-only.yaml")));
        assertThat(run("render", "--topology", TOPOLOGY, "--full", "--netpol-only").exit()).isEqualTo(2);
    }

    @Test
    void renderTunnelsWritesTheGoldenFilesAndNotesTheIngress(@TempDir Path dir) throws IOException {
        Path golden = Path.of("src/test/resources/dev/tresor/mesh/golden/openemr-tunnels");
        Run run = run("render", "--topology", TOPOLOGY, "--tunnels", "--out", dir.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out().lines()).containsExactly(dir.resolve("tunnels-mariadb.yaml").toString(),
                dir.resolve("tunnels-openemr.yaml").toString(), dir.resolve("tunnels-redis.yaml").toString());
        for (String name : new String[] {"tunnels-mariadb.yaml", "tunnels-openemr.yaml", "tunnels-redis.yaml"}) {
            assertThat(Files.readString(dir.resolve(name))).isEqualTo(Files.readString(golden.resolve(name)));
        }
        assertThat(run.err()).startsWith("note: ingress router (istio-system/istio-ingressgateway-service-account) -> "
                + "openemr:8080 is not tunnelled");
        // On stdout: the same files, each after a document marker.
        Run stdout = run("render", "--topology", TOPOLOGY, "--tunnels", "--tunnel-domain", "db.internal");
        assertThat(stdout.exit()).as(stdout.err()).isZero();
        assertThat(stdout.out().split("(?m)^---\n")).hasSize(4);
        assertThat(stdout.out()).contains("target: \"mariadb.db.internal:13306\"").contains("listen: \"127.0.0.1:3306\"");
        Run offset = run("render", "--topology", TOPOLOGY, "--tunnels", "--tunnel-client-port-offset", "20000");
        assertThat(offset.out()).contains("listen: \"127.0.0.1:23306\"").contains("target: \"mariadb:13306\"")
                .doesNotContain("listen: \"127.0.0.1:3306\"");
    }

    @Test
    void renderTunnelsRefusesModesBadOptionsAndClashingPorts() {
        assertThat(run("render", "--topology", TOPOLOGY, "--tunnels", "--full").err()).contains("--tunnels renders tunnel configs");
        assertThat(run("render", "--topology", TOPOLOGY, "--tunnel-domain", "x.internal").exit()).isEqualTo(2);
        assertThat(run("render", "--topology", TOPOLOGY, "--tunnel-client-port-offset", "5").err()).contains("only apply with --tunnels");
        Run domain = run("render", "--topology", TOPOLOGY, "--tunnels", "--tunnel-domain", "UPPER_case");
        assertThat(domain.exit()).isEqualTo(2);
        assertThat(domain.err()).contains("--tunnel-domain: 'UPPER_case' is not a lower-case DNS name");
        Run offset = run("render", "--topology", TOPOLOGY, "--tunnels", "--tunnel-port-offset", "60000");
        assertThat(offset.exit()).isEqualTo(2);
        // 3306 + 60000 still fits; only Redis's tunnel port does not.
        assertThat(offset.err()).contains("workload redis port 6379: its server tunnel would listen on 66379")
                .doesNotContain("mariadb");
    }

    @Test
    void renderedFolderChecksClean(@TempDir Path dir) throws IOException {
        Run render = run("render", "--topology", TOPOLOGY, "--out", dir.toString());
        assertThat(render.exit()).as(render.err()).isZero();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.count()).isEqualTo(render.out().lines().count()).isGreaterThan(20);
        }
        Run check = run("check", "--topology", TOPOLOGY, "--manifests", dir.toString());
        assertThat(check.exit()).as(check.out() + check.err()).isZero();
        assertThat(check.out()).contains("OK: default-deny with exactly the topology's edges");
        assertThat(run("check", "--topology", TOPOLOGY).exit()).isZero();
        assertThat(run("check", "--topology", TOPOLOGY, "--egress-only").out()).contains("Layers evaluated: EgressFirewall\n");
    }

    @Test
    void checkFailsOnAnExtraPolicyAndRefusesUnmodelledFeatures(@TempDir Path dir) throws IOException {
        run("render", "--topology", TOPOLOGY, "--out", dir.toString());
        Files.writeString(dir.resolve("99-extra.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: allow-all-ingress, namespace: openemr}
                spec:
                  podSelector: {}
                  ingress: [{}]
                """);
        Run failed = run("check", "--topology", TOPOLOGY, "--manifests", dir.toString());
        assertThat(failed.exit()).isEqualTo(1);
        assertThat(failed.out()).contains("FAILED:").contains("probe:other-namespace -> mariadb:3306/TCP: layers disagree");
        Files.writeString(dir.resolve("99-extra.yaml"), """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: expressions, namespace: openemr}
                spec:
                  podSelector: {matchExpressions: [{key: app, operator: Exists}]}
                """);
        Run refused = run("check", "--topology", TOPOLOGY, "--manifests", dir.toString());
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).startsWith("tresor: 99-extra.yaml#1: NetworkPolicy expressions: spec.podSelector.matchExpressions");
    }

    @Test
    void anInvalidTopologyIsAUsageErrorNamingTheLine(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of(TOPOLOGY)).replace("{from: openemr, to: redis, port: 6379}", "{from: openemr, to: valkey, port: 6379}"));
        Run run = run("render", "--topology", bad.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("invalid topology").containsPattern("line \\d+: edges\\[1\\]\\.to: unknown workload 'valkey'");
        assertThat(run().exit()).isEqualTo(2);
    }
}
