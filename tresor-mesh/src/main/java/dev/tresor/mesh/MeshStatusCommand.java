package dev.tresor.mesh;

import dev.tresor.mesh.kube.MeshCluster;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", description = "Compare the cluster with the rendered objects: present, missing, drifted, or managed but no "
                + "longer rendered; each pod's readiness and sidecar. One line per problem, with the fix; exit 1 if any.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh status --topology topology.yaml",
                "  tresor mesh status --topology topology.yaml --netpol-only",
        })
public final class MeshStatusCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Option(names = "--topology", required = true, paramLabel = "FILE", description = "The topology file (YAML).")
    private Path topologyFile;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ModeOption mode;

    @Spec
    private CommandSpec spec;

    private final ClusterCommandSupport support;

    public MeshStatusCommand() {
        this(ClusterCommandSupport.standard());
    }

    MeshStatusCommand(ClusterCommandSupport support) {
        this.support = support;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Topology topology;
        try {
            topology = support.topology(topologyFile);
        } catch (TopologyException | UncheckedIOException e) {
            err.println("tresor: " + e.getMessage());
            return MeshExit.USAGE;
        }
        try (KubernetesClient client = support.clients().get()) {
            MeshCluster cluster = new MeshCluster(client);
            List<MeshCluster.Finding> findings = new java.util.ArrayList<>(cluster.status(support.render(topology, mode), topology.namespace()));
            findings.addAll(cluster.principals(topology));
            findings.forEach(out::println);
            long problems = findings.stream().filter(MeshCluster.Finding::problem).count();
            out.println(problems == 0 ? "OK: everything rendered is present and unchanged" : "PROBLEMS: " + problems);
            out.flush();
            return problems == 0 ? MeshExit.OK : MeshExit.FAILED;
        } catch (KubernetesClientException e) {
            err.println("tresor: the cluster refused or could not be reached: " + e.getMessage());
            return MeshExit.FAILED;
        }
    }
}
