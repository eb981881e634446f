package dev.tresor.mesh.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The OpenEMR topology rendered in each mode must equal the reviewed golden file byte for byte.
 * After an intended change, regenerate with {@code -Dtresor.mesh.updateGolden=true} and review the diff.
 */
class RendererGoldenTest {

    private static final Path GOLDEN = Path.of("src", "test", "resources", "dev", "tresor", "mesh", "golden");

    private final Renderer renderer = new Renderer(new TopologyHash());
    private final ManifestWriter writer = new ManifestWriter();
    private final Topology openEmr = new TopologyLoader().load(Path.of("..", "examples", "openemr", "topology.yaml"));

    static String split(String yaml, int index) {
        return yaml.split("(?m)^---\n")[index];
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void openEmrMatchesTheGoldenFile(Mode mode) throws IOException {
        String rendered = writer.toYaml(renderer.render(openEmr, mode));
        Path golden = GOLDEN.resolve("openemr-" + mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + ".yaml");
        if (Boolean.getBoolean("tresor.mesh.updateGolden")) {
            Files.createDirectories(GOLDEN);
            Files.writeString(golden, rendered, StandardCharsets.UTF_8);
        }
        assertThat(rendered).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
    }

    @Test
    void sameInputGivesSameBytesAndTheHashIgnoresFormatting() throws IOException {
        String text = Files.readString(Path.of("..", "examples", "openemr", "topology.yaml"));
        Topology reformatted = new TopologyLoader().parse(text.replaceAll("(?m)\\s+#.*$", ""), "no-comments.yaml");
        assertThat(writer.toYaml(renderer.render(reformatted, Mode.FULL)))
                .isEqualTo(writer.toYaml(renderer.render(openEmr, Mode.FULL)));
        Topology changed = new TopologyLoader().parse(text.replace("port: 6379}", "port: 6379}\n  - {from: redis, to: mariadb, port: 3306}"), "x.yaml");
        assertThat(new TopologyHash().of(changed)).isNotEqualTo(new TopologyHash().of(openEmr)).hasSize(64);
    }

    @Test
    void everyObjectIsLabelledAndAnnotatedWithTheTopologyHash() {
        String hash = new TopologyHash().of(openEmr);
        List<Manifest> all = renderer.render(openEmr, Mode.FULL);
        assertThat(all).hasSizeGreaterThan(20).allSatisfy(m -> {
            @SuppressWarnings("unchecked")
            var metadata = (java.util.Map<String, Object>) m.body().get("metadata");
            assertThat(metadata.get("labels")).isEqualTo(java.util.Map.of(Renderer.MANAGED_BY_LABEL, Renderer.MANAGED_BY))
                    .as(m.kind() + " " + m.name());
            assertThat(metadata.get("annotations")).isEqualTo(java.util.Map.of(Renderer.HASH_ANNOTATION, hash));
        });
        assertThat(all).extracting(Manifest::kind).containsSubsequence("ServiceMeshControlPlane", "ServiceMeshMemberRoll",
                "PeerAuthentication", "AuthorizationPolicy", "Sidecar", "NetworkPolicy", "EgressFirewall");
    }

    @Test
    void modesContainOnlyTheirKinds() {
        assertThat(renderer.render(openEmr, Mode.NETPOL_ONLY)).extracting(Manifest::kind).containsOnly("NetworkPolicy");
        assertThat(renderer.render(openEmr, Mode.EGRESS_ONLY)).extracting(Manifest::kind).containsExactly("EgressFirewall");
        assertThat(renderer.render(openEmr, Mode.MESH)).extracting(Manifest::kind)
                .doesNotContain("Namespace", "ServiceMeshControlPlane", "ServiceMeshMemberRoll")
                .contains("PeerAuthentication", "AuthorizationPolicy", "Sidecar", "NetworkPolicy", "EgressFirewall");
        // The mesh modes also let sidecars reach istiod; without a mesh there is no istiod to reach.
        assertThat(renderer.render(openEmr, Mode.NETPOL_ONLY)).extracting(Manifest::name).doesNotContain("allow-istio-control-plane");
        assertThat(renderer.render(openEmr, Mode.MESH)).extracting(Manifest::name).contains("allow-istio-control-plane");
    }

    @Test
    void networkPoliciesParseIntoFabric8sTypedModel() {
        KubernetesSerialization serialization = new KubernetesSerialization();
        List<Manifest> policies = renderer.render(openEmr, Mode.NETPOL_ONLY);
        String yaml = writer.toYaml(policies);
        List<NetworkPolicy> parsed = Arrays.stream(yaml.split("(?m)^---\n")).filter(d -> !d.isBlank())
                .map(d -> serialization.unmarshal(d, NetworkPolicy.class)).toList();
        assertThat(parsed).hasSize(policies.size());
        NetworkPolicy deny = parsed.stream().filter(p -> p.getMetadata().getName().equals("default-deny")).findFirst().orElseThrow();
        assertThat(deny.getMetadata().getNamespace()).isEqualTo("openemr");
        assertThat(deny.getSpec().getPodSelector().getMatchLabels()).isEmpty();
        assertThat(deny.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(deny.getSpec().getIngress()).isEmpty();
        NetworkPolicy dbIngress = parsed.stream().filter(p -> p.getMetadata().getName().equals("mariadb-ingress-from-openemr-3306"))
                .findFirst().orElseThrow();
        assertThat(dbIngress.getSpec().getPodSelector().getMatchLabels()).containsExactly(java.util.Map.entry("app", "mariadb"));
        assertThat(dbIngress.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getFrom()).singleElement().satisfies(peer ->
                    assertThat(peer.getPodSelector().getMatchLabels()).containsExactly(java.util.Map.entry("app", "openemr")));
            assertThat(rule.getPorts()).singleElement().satisfies(port -> {
                assertThat(port.getPort().getIntVal()).isEqualTo(3306);
                assertThat(port.getProtocol()).isEqualTo("TCP");
            });
        });
        NetworkPolicy dns = parsed.stream().filter(p -> p.getMetadata().getName().equals("allow-dns")).findFirst().orElseThrow();
        assertThat(dns.getSpec().getEgress().getFirst().getPorts()).extracting(p -> p.getPort().getIntVal() + "/" + p.getProtocol())
                .containsExactly("5353/TCP", "5353/UDP");
        // Every policy re-serialised by fabric8 names the same object (nothing dropped as unknown).
        for (NetworkPolicy p : parsed) {
            assertThat(p.getAdditionalProperties()).as(p.getMetadata().getName()).isEmpty();
            assertThat(p.getSpec().getAdditionalProperties()).isEmpty();
        }
    }

    @Test
    void writesOneFilePerObjectInApplyOrder(@TempDir Path dir) throws IOException {
        List<Manifest> manifests = renderer.render(openEmr, Mode.MESH);
        List<Path> files = writer.writeFiles(manifests, dir);
        assertThat(files).hasSize(manifests.size());
        assertThat(files.getFirst().getFileName().toString()).isEqualTo("01-peerauthentication-default.yaml");
        assertThat(files.getLast().getFileName().toString()).endsWith("-egressfirewall-default.yaml");
        StringBuilder joined = new StringBuilder();
        for (Path f : files) joined.append(Files.readString(f));
        assertThat(joined.toString()).isEqualTo(writer.toYaml(manifests));
    }
}
