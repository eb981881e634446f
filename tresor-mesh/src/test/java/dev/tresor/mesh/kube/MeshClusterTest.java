package dev.tresor.mesh.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.mesh.render.Manifest;
import dev.tresor.mesh.render.Mode;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** apply, status and cleanup against fabric8's mock API server in CRUD mode, with the mesh CRDs registered. */
class MeshClusterTest {

    private KubernetesMockServer server;
    private KubernetesClient client;
    private MeshCluster cluster;
    private final Topology openEmr = new TopologyLoader().load(Path.of("..", "examples", "openemr", "topology.yaml"));
    private final List<Manifest> manifests = new Renderer(new TopologyHash()).render(openEmr, Mode.FULL);

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        for (String kind : List.of("ServiceMeshControlPlane", "ServiceMeshMemberRoll", "PeerAuthentication",
                "AuthorizationPolicy", "Sidecar", "EgressFirewall")) {
            var c = Kinds.of(kind);
            server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup(c.getGroup())
                    .withVersion(c.getVersion()).withKind(c.getKind()).withPlural(c.getPlural()).withScope("Namespaced").build());
        }
        client = server.createClient();
        cluster = new MeshCluster(client);
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    private GenericKubernetesResource get(String kind, String namespace, String name) {
        return client.genericKubernetesResources(Kinds.of(kind)).inNamespace(namespace).withName(name).get();
    }

    @Test
    void applyCreatesEverythingAndApplyingTwiceWritesNothing() {
        List<MeshCluster.Change> dry = cluster.apply(manifests, true);
        assertThat(dry).extracting(MeshCluster.Change::action).containsOnly(MeshCluster.Change.Action.CREATE);
        assertThat(get("NetworkPolicy", "openemr", "default-deny")).isNull();

        assertThat(cluster.apply(manifests, false)).extracting(MeshCluster.Change::action).containsOnly(MeshCluster.Change.Action.CREATE);
        GenericKubernetesResource deny = get("AuthorizationPolicy", "openemr", "deny-all");
        assertThat(deny.getMetadata().getLabels()).containsEntry(Renderer.MANAGED_BY_LABEL, Renderer.MANAGED_BY);
        assertThat(get("ServiceMeshMemberRoll", "istio-system", "default").getAdditionalProperties().get("spec"))
                .isEqualTo(Map.of("members", List.of("openemr")));
        String version = get("NetworkPolicy", "openemr", "default-deny").getMetadata().getResourceVersion();

        assertThat(cluster.apply(manifests, false)).extracting(MeshCluster.Change::action).containsOnly(MeshCluster.Change.Action.UNCHANGED);
        assertThat(get("NetworkPolicy", "openemr", "default-deny").getMetadata().getResourceVersion()).isEqualTo(version);
        assertThat(cluster.status(manifests, "openemr")).noneMatch(MeshCluster.Finding::problem).hasSize(manifests.size());
    }

    @Test
    void driftAndMissingObjectsAreReportedAndApplyRestoresThem() {
        cluster.apply(manifests, false);
        client.genericKubernetesResources(Kinds.of("PeerAuthentication")).inNamespace("openemr").withName("default")
                .edit(r -> {
                    r.setAdditionalProperty("spec", Map.of("mtls", Map.of("mode", "PERMISSIVE")));
                    return r;
                });
        client.genericKubernetesResources(Kinds.of("NetworkPolicy")).inNamespace("openemr").withName("allow-dns").delete();
        List<MeshCluster.Finding> findings = cluster.status(manifests, "openemr");
        assertThat(findings).filteredOn(MeshCluster.Finding::problem).extracting(Object::toString).containsExactlyInAnyOrder(
                "PeerAuthentication openemr/default: drifted (spec.mtls.mode: PERMISSIVE instead of STRICT) -> run tresor mesh apply to restore the rendered form",
                "NetworkPolicy openemr/allow-dns: missing -> run tresor mesh apply");
        List<MeshCluster.Change> dry = cluster.apply(manifests, true);
        assertThat(dry).filteredOn(c -> c.action() != MeshCluster.Change.Action.UNCHANGED)
                .extracting(c -> c.kind() + " " + c.name() + " " + c.action() + " " + c.diff())
                .containsExactlyInAnyOrder("PeerAuthentication default UPDATE [spec.mtls.mode: PERMISSIVE instead of STRICT]",
                        "NetworkPolicy allow-dns CREATE []");
        cluster.apply(manifests, false);
        assertThat(cluster.status(manifests, "openemr")).noneMatch(MeshCluster.Finding::problem);
    }

    @Test
    void statusReportsPodsWithoutSidecar() {
        cluster.apply(manifests, false);
        client.pods().inNamespace("openemr").resource(new PodBuilder().withNewMetadata().withName("mariadb-0").endMetadata()
                .withNewSpec().addNewContainer().withName("mariadb").withImage("mariadb").endContainer().endSpec().build()).create();
        client.pods().inNamespace("openemr").resource(new PodBuilder().withNewMetadata().withName("openemr-1").endMetadata()
                .withNewSpec().addNewContainer().withName("openemr").withImage("openemr").endContainer()
                .addNewContainer().withName("istio-proxy").withImage("proxyv2").endContainer().endSpec()
                .withNewStatus().addNewContainerStatus().withName("openemr").withReady(true).endContainerStatus()
                .addNewContainerStatus().withName("istio-proxy").withReady(true).endContainerStatus().endStatus().build()).create();
        List<MeshCluster.Finding> findings = cluster.status(manifests, "openemr");
        assertThat(findings).filteredOn(f -> f.subject().startsWith("Pod ")).extracting(Object::toString).containsExactlyInAnyOrder(
                "Pod openemr/mariadb-0: 0/1 ready, no sidecar -> the namespace is not in the mesh (missing ServiceMeshMemberRoll "
                        + "membership or istio-injection label, or the pod predates it): fix membership, then restart the pod",
                "Pod openemr/openemr-1: 2/2 ready, sidecar injected");
    }

    @Test
    void statusReportsAPrincipalMismatch() {
        client.pods().inNamespace("openemr").resource(new PodBuilder().withNewMetadata().withName("mariadb-0")
                .addToLabels("app", "mariadb").endMetadata().withNewSpec().withServiceAccountName("default")
                .addNewContainer().withName("mariadb").withImage("mariadb").endContainer().endSpec().build()).create();
        client.pods().inNamespace("openemr").resource(new PodBuilder().withNewMetadata().withName("redis-0")
                .addToLabels("app", "redis").endMetadata().withNewSpec().withServiceAccountName("redis")
                .addNewContainer().withName("redis").withImage("redis").endContainer().endSpec().build()).create();
        assertThat(cluster.principals(openEmr)).extracting(Object::toString).containsExactly(
                "Workload openemr: no pod matches labels {app=openemr} -> deploy it, or make the topology's labels match its pod template",
                "Pod openemr/mariadb-0 (mariadb): principal mismatch: runs as service account default, the policies allow "
                        + "cluster.local/ns/openemr/sa/mariadb -> set serviceAccountName: mariadb in its pod template, or change the topology",
                "Pod openemr/redis-0 (redis): principal cluster.local/ns/openemr/sa/redis");
    }

    @Test
    void cleanupRemovesOnlyManagedObjects() {
        cluster.apply(manifests, false);
        client.network().v1().networkPolicies().inNamespace("openemr").resource(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder()
                .withNewMetadata().withName("hand-made").endMetadata().withNewSpec().withNewPodSelector().endPodSelector().endSpec().build()).create();
        client.configMaps().inNamespace("openemr").resource(new ConfigMapBuilder().withNewMetadata().withName("settings")
                .addToLabels(Renderer.MANAGED_BY_LABEL, "someone-else").endMetadata().build()).create();
        List<String> removed = cluster.cleanup("openemr", "istio-system");
        assertThat(removed).hasSize(manifests.size() - 1); // all but the Namespace, which is kept
        assertThat(removed.indexOf("AuthorizationPolicy openemr/allow-openemr-to-mariadb-3306"))
                .isLessThan(removed.indexOf("AuthorizationPolicy openemr/deny-all"));
        assertThat(removed.indexOf("NetworkPolicy openemr/openemr-egress-to-quay")).isLessThan(removed.indexOf("NetworkPolicy openemr/default-deny"));
        assertThat(client.network().v1().networkPolicies().inNamespace("openemr").list().getItems())
                .extracting(p -> p.getMetadata().getName()).containsExactly("hand-made");
        assertThat(client.configMaps().inNamespace("openemr").withName("settings").get()).isNotNull();
        assertThat(get("EgressFirewall", "openemr", "default")).isNull();
        assertThat(get("ServiceMeshControlPlane", "istio-system", "basic")).isNull();
        assertThat(cluster.status(manifests, "openemr")).filteredOn(MeshCluster.Finding::problem).hasSize(manifests.size() - 1);
    }
}
