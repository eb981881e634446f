package dev.tresor.mesh;

import dev.tresor.mesh.check.CheckReport;
import dev.tresor.mesh.check.Layer;
import dev.tresor.mesh.check.ManifestReader;
import dev.tresor.mesh.check.MeshChecker;
import dev.tresor.mesh.check.PolicyParser;
import dev.tresor.mesh.check.PolicySet;
import dev.tresor.mesh.check.UnsupportedPolicyException;
import dev.tresor.mesh.render.ManifestWriter;
import dev.tresor.mesh.render.Mode;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import dev.tresor.mesh.topology.TopologyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "check", description = {
                "Evaluate the NetworkPolicies, AuthorizationPolicies and EgressFirewall separately for every source, "
                        + "destination and port; print the reachability matrix; exit 1 if anything the topology does not "
                        + "name is allowed, an edge is blocked in any layer, or the layers disagree.",
                "Without --manifests, checks what render would produce. Policy features the checker does not model "
                        + "are refused (exit 2), never guessed; docs/mesh.md lists them.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh check --topology topology.yaml",
                "  tresor mesh check --topology topology.yaml --manifests ./mesh",
                "  tresor mesh check --topology topology.yaml --manifests np.yaml --netpol-only",
        })
public final class MeshCheckCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Option(names = "--topology", required = true, paramLabel = "FILE", description = "The topology file (YAML).")
    private Path topologyFile;

    @Option(names = "--manifests", paramLabel = "DIR|FILE", description = "The manifests to check: a YAML file or every *.yaml/*.yml of a folder.")
    private Path manifests;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ModeOption mode;

    @Spec
    private CommandSpec spec;

    private final TopologyLoader loader;
    private final Renderer renderer;
    private final ManifestWriter writer;
    private final ManifestReader reader;
    private final PolicyParser parser;
    private final MeshChecker checker;

    public MeshCheckCommand() {
        this(new TopologyLoader(), new Renderer(new TopologyHash()), new ManifestWriter(), new ManifestReader(),
                new PolicyParser(), new MeshChecker());
    }

    MeshCheckCommand(TopologyLoader loader, Renderer renderer, ManifestWriter writer, ManifestReader reader,
                     PolicyParser parser, MeshChecker checker) {
        this.loader = loader;
        this.renderer = renderer;
        this.writer = writer;
        this.reader = reader;
        this.parser = parser;
        this.checker = checker;
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Mode chosen = ModeOption.of(mode);
        try {
            Topology topology = loader.load(topologyFile);
            List<PolicyParser.Sourced> objects;
            if (manifests == null) {
                objects = reader.read(writer.toYaml(renderer.render(topology, chosen)), "(rendered)");
            } else if (!Files.exists(manifests)) {
                stderr.println("tresor: no such file or folder: " + manifests);
                return MeshExit.USAGE;
            } else {
                objects = reader.read(manifests);
            }
            PolicySet policies = parser.parse(objects, topology.namespace());
            CheckReport report = checker.check(topology, policies, layers(chosen));
            stdout.print(report.render());
            stdout.flush();
            return report.ok() ? MeshExit.OK : MeshExit.FAILED;
        } catch (TopologyException | UnsupportedPolicyException | UncheckedIOException e) {
            stderr.println("tresor: " + e.getMessage());
            return MeshExit.USAGE;
        } catch (IOException e) {
            stderr.println("tresor: cannot read manifests " + manifests + ": " + e.getMessage());
            return MeshExit.USAGE;
        }
    }

    /** The layers a mode's manifests enforce, so a --netpol-only namespace is not failed for having no AuthorizationPolicies. */
    static Set<Layer> layers(Mode mode) {
        return switch (mode) {
            case FULL, MESH -> EnumSet.allOf(Layer.class);
            case NETPOL_ONLY -> EnumSet.of(Layer.NETWORK_POLICY);
            case EGRESS_ONLY -> EnumSet.of(Layer.EGRESS_FIREWALL);
        };
    }
}
