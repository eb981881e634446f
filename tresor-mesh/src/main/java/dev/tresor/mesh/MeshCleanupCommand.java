package dev.tresor.mesh;

import dev.tresor.mesh.kube.MeshCluster;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "cleanup", description = "Delete the objects labelled app.kubernetes.io/managed-by=tresor in the topology's namespace (and "
                + "its SMMR and SMCP); allow rules go before the deny baselines, so a half-done cleanup fails closed. "
                + "The Namespace itself is kept.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh cleanup --topology topology.yaml",
        })
public final class MeshCleanupCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Option(names = "--topology", required = true, paramLabel = "FILE", description = "The topology file (YAML).")
    private Path topologyFile;

    @Spec
    private CommandSpec spec;

    private final ClusterCommandSupport support;

    public MeshCleanupCommand() {
        this(ClusterCommandSupport.standard());
    }

    MeshCleanupCommand(ClusterCommandSupport support) {
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
            for (String removed : new MeshCluster(client).cleanup(topology.namespace(), topology.mesh().controlPlaneNamespace())) {
                out.println("deleted " + removed);
            }
            out.flush();
            return MeshExit.OK;
        } catch (KubernetesClientException e) {
            err.println("tresor: the cluster refused or could not be reached: " + e.getMessage());
            return MeshExit.FAILED;
        }
    }
}
