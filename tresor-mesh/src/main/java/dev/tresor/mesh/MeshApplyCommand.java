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

@Command(name = "apply", description = "Create or update the rendered objects in the cluster (current kubeconfig); objects already in "
                + "their rendered form are not written. --full also creates the Namespace (with its injection label).",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh apply --topology topology.yaml --dry-run",
                "  tresor mesh apply --topology topology.yaml --full",
        })
public final class MeshApplyCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Option(names = "--topology", required = true, paramLabel = "FILE", description = "The topology file (YAML).")
    private Path topologyFile;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ModeOption mode;

    @Option(names = "--dry-run", description = "Print what would be created or updated, with the drifted fields; write nothing.")
    private boolean dryRun;

    @Spec
    private CommandSpec spec;

    private final ClusterCommandSupport support;

    public MeshApplyCommand() {
        this(ClusterCommandSupport.standard());
    }

    MeshApplyCommand(ClusterCommandSupport support) {
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
            List<MeshCluster.Change> changes = new MeshCluster(client).apply(support.render(topology, mode), dryRun);
            int unavailable = 0;
            for (MeshCluster.Change c : changes) {
                String verb = switch (c.action()) {
                    case CREATE -> dryRun ? "would create" : "created";
                    case UPDATE -> dryRun ? "would update" : "updated";
                    case UNCHANGED -> "unchanged";
                    case UNAVAILABLE -> "NOT APPLIED";
                };
                out.println(verb + " " + c.kind() + " " + c.name() + (c.diff().isEmpty() ? "" : ": " + String.join("; ", c.diff())));
                if (c.action() == MeshCluster.Change.Action.UNAVAILABLE) unavailable++;
            }
            out.flush();
            return unavailable == 0 ? MeshExit.OK : MeshExit.FAILED;
        } catch (KubernetesClientException e) {
            err.println("tresor: the cluster refused or could not be reached: " + e.getMessage());
            return MeshExit.FAILED;
        }
    }
}
