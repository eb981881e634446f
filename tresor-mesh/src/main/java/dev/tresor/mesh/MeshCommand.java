package dev.tresor.mesh;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code tresor mesh}: groups render, check, apply, status and cleanup; alone it prints its usage and exits 2. */
@Command(name = "mesh", subcommands = {MeshRenderCommand.class, MeshCheckCommand.class, MeshApplyCommand.class, MeshStatusCommand.class,
                MeshCleanupCommand.class},
        description = {
                "A zero-trust Kubernetes namespace from one topology file: strict mTLS, per-edge AuthorizationPolicies "
                        + "by principal, default-deny NetworkPolicies, an EgressFirewall allow-list and Sidecar scoping; "
                        + "and a checker proving the policies allow exactly the topology's edges. See docs/mesh.md.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh render --topology openemr/topology.yaml --out ./mesh",
                "  tresor mesh check --topology openemr/topology.yaml --manifests ./mesh",
        })
public final class MeshCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("tresor: " + spec.qualifiedName() + " needs a subcommand");
        spec.commandLine().usage(spec.commandLine().getErr());
        return MeshExit.USAGE;
    }
}
