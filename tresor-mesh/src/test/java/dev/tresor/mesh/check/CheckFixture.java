package dev.tresor.mesh.check;

import dev.tresor.mesh.render.ManifestWriter;
import dev.tresor.mesh.render.Mode;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/** Renders a topology to YAML text and checks YAML text, the same round trip as the CLI. */
final class CheckFixture {

    final Topology openEmr = new TopologyLoader().load(Path.of("..", "examples", "openemr", "topology.yaml"));
    private final Renderer renderer = new Renderer(new TopologyHash());
    private final ManifestWriter writer = new ManifestWriter();

    String render(Topology topology, Mode mode) {
        return writer.toYaml(renderer.render(topology, mode));
    }

    CheckReport check(Topology topology, String yaml, Set<Layer> layers) {
        try {
            PolicySet policies = new PolicyParser().parse(new ManifestReader().read(yaml, "test.yaml"), topology.namespace());
            return new MeshChecker().check(topology, policies, layers);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    CheckReport check(Topology topology, String yaml) {
        return check(topology, yaml, EnumSet.allOf(Layer.class));
    }
}
