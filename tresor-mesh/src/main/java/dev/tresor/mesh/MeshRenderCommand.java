package dev.tresor.mesh;

import dev.tresor.mesh.render.Manifest;
import dev.tresor.mesh.render.ManifestWriter;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import dev.tresor.mesh.topology.TopologyLoader;
import java.io.IOException;
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

@Command(name = "render", description = "Render the namespace's manifests: sorted, commented YAML; the same topology always gives the same bytes.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor mesh render --topology topology.yaml > mesh.yaml",
                "  tresor mesh render --topology topology.yaml --full --out ./mesh",
                "  tresor mesh render --topology topology.yaml --netpol-only",
        })
public final class MeshRenderCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Option(names = "--topology", required = true, paramLabel = "FILE", description = "The topology file (YAML).")
    private Path topologyFile;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ModeOption mode;

    @Option(names = "--out", paramLabel = "DIR", description = "Write one file per object here (numbered in apply order) instead of one stream on stdout.")
    private Path out;

    @Spec
    private CommandSpec spec;

    private final TopologyLoader loader;
    private final Renderer renderer;
    private final ManifestWriter writer;

    public MeshRenderCommand() {
        this(new TopologyLoader(), new Renderer(new TopologyHash()), new ManifestWriter());
    }

    MeshRenderCommand(TopologyLoader loader, Renderer renderer, ManifestWriter writer) {
        this.loader = loader;
        this.renderer = renderer;
        this.writer = writer;
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Topology topology;
        try {
            topology = loader.load(topologyFile);
        } catch (TopologyException | UncheckedIOException e) {
            stderr.println("tresor: " + e.getMessage());
            return MeshExit.USAGE;
        }
        List<Manifest> manifests = renderer.render(topology, ModeOption.of(mode));
        if (out == null) {
            stdout.print(writer.toYaml(manifests));
            stdout.flush();
            return MeshExit.OK;
        }
        try {
            for (Path written : writer.writeFiles(manifests, out)) {
                stdout.println(written);
            }
        } catch (IOException e) {
            stderr.println("tresor: cannot write to " + out + ": " + e.getMessage());
            return MeshExit.USAGE;
        }
        stdout.flush();
        return MeshExit.OK;
    }
}
