package dev.tresor.mesh;

import dev.tresor.mesh.render.Manifest;
import dev.tresor.mesh.render.ManifestWriter;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.render.TunnelFile;
import dev.tresor.mesh.render.TunnelOptions;
import dev.tresor.mesh.render.TunnelRenderException;
import dev.tresor.mesh.render.TunnelRenderer;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import dev.tresor.mesh.topology.TopologyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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
                "  tresor mesh render --topology topology.yaml --tunnels --out ./tunnels",
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

    @Option(names = "--tunnels", description = "Instead of manifests, one tresor tunnel config per workload's host (for hosts without a mesh).")
    private boolean tunnels;

    @Option(names = "--tunnel-port-offset", paramLabel = "N", defaultValue = "" + TunnelOptions.DEFAULT_PORT_OFFSET,
            description = "With --tunnels: a server tunnel for port P listens on P+N (default: ${DEFAULT-VALUE}).")
    private int tunnelPortOffset;

    @Option(names = "--tunnel-client-port-offset", paramLabel = "M", defaultValue = "0",
            description = "With --tunnels: a client tunnel to D:P listens on 127.0.0.1:(P+M) (default: ${DEFAULT-VALUE}, the service's own port).")
    private int tunnelClientPortOffset;

    @Option(names = "--tunnel-domain", paramLabel = "DOMAIN",
            description = "With --tunnels: client tunnels connect to <workload>.DOMAIN (default: the bare workload name).")
    private String tunnelDomain;

    @Spec
    private CommandSpec spec;

    private final TopologyLoader loader;
    private final Renderer renderer;
    private final ManifestWriter writer;
    private final TunnelRenderer tunnelRenderer;

    public MeshRenderCommand() {
        this(new TopologyLoader(), new Renderer(new TopologyHash()), new ManifestWriter(), new TunnelRenderer(new TopologyHash()));
    }

    MeshRenderCommand(TopologyLoader loader, Renderer renderer, ManifestWriter writer, TunnelRenderer tunnelRenderer) {
        this.loader = loader;
        this.renderer = renderer;
        this.writer = writer;
        this.tunnelRenderer = tunnelRenderer;
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
        if (tunnels) {
            return renderTunnels(topology, stdout, stderr);
        }
        if (tunnelDomain != null || tunnelPortOffset != TunnelOptions.DEFAULT_PORT_OFFSET || tunnelClientPortOffset != 0) {
            stderr.println("tresor: --tunnel-port-offset, --tunnel-client-port-offset and --tunnel-domain only apply with --tunnels");
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

    private int renderTunnels(Topology topology, PrintWriter stdout, PrintWriter stderr) {
        if (mode != null) {
            stderr.println("tresor: --tunnels renders tunnel configs, not manifests; leave out --full, --netpol-only and --egress-only");
            return MeshExit.USAGE;
        }
        List<TunnelFile> files;
        try {
            files = tunnelRenderer.render(topology, new TunnelOptions(tunnelPortOffset, tunnelClientPortOffset,
                    Optional.ofNullable(tunnelDomain)));
        } catch (IllegalArgumentException | TunnelRenderException e) {
            stderr.println("tresor: " + e.getMessage());
            return MeshExit.USAGE;
        }
        for (TunnelRenderer.Note note : TunnelRenderer.notes(topology)) {
            stderr.println("note: " + note.text());
        }
        stderr.flush();
        try {
            if (out != null) {
                Files.createDirectories(out);
            }
            for (TunnelFile file : files) {
                String yaml = tunnelRenderer.toYaml(topology, file);
                if (out == null) {
                    stdout.print("---\n" + yaml);
                } else {
                    Path path = out.resolve(file.fileName());
                    Files.writeString(path, yaml, StandardCharsets.UTF_8);
                    stdout.println(path);
                }
            }
        } catch (IOException e) {
            stderr.println("tresor: cannot write to " + out + ": " + e.getMessage());
            return MeshExit.USAGE;
        }
        stdout.flush();
        return MeshExit.OK;
    }
}
