package dev.tresor.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.mesh.kube.Kinds;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.TopologyLoader;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** apply, status and cleanup as commands, against the fabric8 mock server in CRUD mode. */
class MeshClusterCommandTest {

    private static final String TOPOLOGY = Path.of("..", "examples", "openemr", "topology.yaml").toString();

    private KubernetesMockServer server;

    private record Run(int exit, String out, String err) {}

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        for (String kind : List.of("ServiceMeshControlPlane", "ServiceMeshMemberRoll", "PeerAuthentication", "AuthorizationPolicy",
                "Sidecar", "EgressFirewall")) {
            var c = Kinds.of(kind);
            server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup(c.getGroup())
                    .withVersion(c.getVersion()).withKind(c.getKind()).withPlural(c.getPlural()).withScope("Namespaced").build());
        }
    }

    @AfterEach
    void stop() {
        server.destroy();
    }

    private Run run(String... args) {
        ClusterCommandSupport support = new ClusterCommandSupport(new TopologyLoader(), new Renderer(new TopologyHash()),
                () -> (KubernetesClient) server.createClient());
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                if (type == MeshApplyCommand.class) return type.cast(new MeshApplyCommand(support));
                if (type == MeshStatusCommand.class) return type.cast(new MeshStatusCommand(support));
                if (type == MeshCleanupCommand.class) return type.cast(new MeshCleanupCommand(support));
                return CommandLine.defaultFactory().create(type);
            }
        };
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new MeshCommand(), factory);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void applyStatusCleanupRoundTrip() {
        Run dry = run("apply", "--topology", TOPOLOGY, "--netpol-only", "--dry-run");
        assertThat(dry.exit()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("would create NetworkPolicy default-deny");
        Run status = run("status", "--topology", TOPOLOGY, "--netpol-only");
        assertThat(status.exit()).isEqualTo(1);
        assertThat(status.out()).contains("NetworkPolicy openemr/default-deny: missing -> run tresor mesh apply");

        Run apply = run("apply", "--topology", TOPOLOGY, "--netpol-only");
        assertThat(apply.exit()).as(apply.err()).isZero();
        assertThat(apply.out()).contains("created NetworkPolicy mariadb-ingress-from-openemr-3306");
        assertThat(run("apply", "--topology", TOPOLOGY, "--netpol-only").out()).doesNotContain("created", "updated");
        Run after = run("status", "--topology", TOPOLOGY, "--netpol-only");
        // Every object is in place; what is left is that no workload is deployed in the mock cluster.
        assertThat(after.out()).contains("NetworkPolicy openemr/default-deny: present", "Workload mariadb: no pod matches labels {app=mariadb}")
                .endsWith("PROBLEMS: 3\n");
        assertThat(after.exit()).isEqualTo(1);

        Run cleanup = run("cleanup", "--topology", TOPOLOGY);
        assertThat(cleanup.exit()).as(cleanup.err()).isZero();
        assertThat(cleanup.out()).contains("deleted NetworkPolicy openemr/default-deny");
    }
}
