package dev.tresor.mesh;

import dev.tresor.mesh.render.Manifest;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * What apply, status and cleanup share: the topology, its rendering, and where the cluster
 * client comes from (the kubeconfig or in-cluster service account, as kubectl finds them;
 * tests pass a mock server's client).
 */
record ClusterCommandSupport(TopologyLoader loader, Renderer renderer, Supplier<KubernetesClient> clients) {

    static ClusterCommandSupport standard() {
        return new ClusterCommandSupport(new TopologyLoader(), new Renderer(new TopologyHash()),
                () -> new KubernetesClientBuilder().build());
    }

    Topology topology(Path file) {
        return loader.load(file);
    }

    List<Manifest> render(Topology topology, ModeOption mode) {
        return renderer.render(topology, ModeOption.of(mode));
    }
}
