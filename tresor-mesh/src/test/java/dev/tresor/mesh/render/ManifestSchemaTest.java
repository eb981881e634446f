package dev.tresor.mesh.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Every Istio, Maistra and OVN object {@code render} emits is valid under its kind's CRD schema
 * ({@link CrdSchemas}: minimal schemas written from the upstream CRDs, strict about unknown fields),
 * and each is refused once any field the schema requires is removed, or a field is mistyped,
 * misspelt or out of its enum. The rendered YAML text is parsed, not the renderer's maps, so
 * quoting mistakes (an AuthorizationPolicy port written as a number) show.
 */
class ManifestSchemaTest {

    private static final Path OPENEMR = Path.of("..", "examples", "openemr", "topology.yaml");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final CrdSchemas schemas = new CrdSchemas();
    private final Renderer renderer = new Renderer(new TopologyHash());
    private final ManifestWriter writer = new ManifestWriter();

    /** OpenEMR as shipped (OpenShift Service Mesh), on upstream Istio, and a topology with a wildcard name and a CIDR. */
    private List<Topology> topologies() throws IOException {
        String openEmr = Files.readString(OPENEMR);
        return List.of(
                new TopologyLoader().parse(openEmr, "openemr.yaml"),
                new TopologyLoader().parse(openEmr.replace("flavour: openshift-service-mesh", "flavour: istio"), "istio.yaml"),
                new TopologyLoader().parse("""
                        namespace: shop
                        workloads:
                          - {name: web, serviceAccount: web, labels: {app: web, tier: front}, ports: [{port: 8080}]}
                          - {name: api, serviceAccount: api, labels: {app: api}, ports: [{port: 9000}, {port: 9443}]}
                        edges:
                          - {from: web, to: api, port: 9000}
                          - {from: web, to: api, port: 9443}
                        egress:
                          - {name: cdn, dnsName: "*.cdn.example.com", ports: [{port: 443}], from: [web]}
                          - {name: ntp, cidr: 192.0.2.0/24, ports: [{port: 123, protocol: UDP}], from: [api]}
                        """, "shop.yaml"));
    }

    /** The rendered objects as parsed back from the YAML stream, in render order. */
    private List<JsonNode> rendered(Topology topology) {
        return Arrays.stream(writer.toYaml(renderer.render(topology, Mode.FULL)).split("(?m)^---\n"))
                .filter(d -> !d.isBlank()).map(ManifestSchemaTest::parse).toList();
    }

    private static JsonNode parse(String yaml) {
        try {
            return YAML.readTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first rendered object of each schema'd kind, across the topologies. */
    private Map<String, ObjectNode> firstOfEachKind() throws IOException {
        Map<String, ObjectNode> first = new TreeMap<>();
        for (Topology t : topologies()) {
            for (JsonNode o : rendered(t)) {
                if (schemas.kinds().contains(o.path("kind").asText())) first.putIfAbsent(o.path("kind").asText(), (ObjectNode) o);
            }
        }
        assertThat(first.keySet()).containsExactlyInAnyOrderElementsOf(schemas.kinds());
        return first;
    }

    @Test
    void everyRenderedMeshMaistraAndOvnObjectIsValid() throws IOException {
        Map<String, Integer> validated = new TreeMap<>();
        for (Topology t : topologies()) {
            for (JsonNode object : rendered(t)) {
                String kind = object.path("kind").asText();
                if (schemas.kinds().contains(kind)) {
                    assertThat(schemas.validate(object)).as(kind + " " + object.path("metadata").path("name").asText()).isEmpty();
                    validated.merge(kind, 1, Integer::sum);
                } else {
                    // Namespace and NetworkPolicy have fabric8 typed models (NetworkPolicy: RendererGoldenTest).
                    assertThat(kind).isIn("Namespace", "NetworkPolicy");
                    if (kind.equals("Namespace")) {
                        Namespace ns = new KubernetesSerialization().convertValue(object, Namespace.class);
                        assertThat(ns.getAdditionalProperties()).isEmpty();
                        assertThat(ns.getMetadata().getAdditionalProperties()).isEmpty();
                    }
                }
            }
        }
        assertThat(validated.keySet()).containsExactlyInAnyOrderElementsOf(schemas.kinds());
        assertThat(validated.get("AuthorizationPolicy")).isGreaterThan(6);
    }

    /** A path to a field the schema requires and the object has; segments are property names or array indexes. */
    private record RequiredField(List<Object> path) {
        String dotted() {
            StringBuilder out = new StringBuilder();
            for (Object s : path) {
                if (s instanceof Integer i) out.append('[').append(i).append(']');
                else out.append(out.isEmpty() ? "" : ".").append(s);
            }
            return out.toString();
        }

        String name() {
            return (String) path.getLast();
        }
    }

    /** Walks schema and object together: every required property present, in objects and in each array's first element. */
    private static void requiredFields(JsonNode schema, JsonNode object, List<Object> at, List<RequiredField> out) {
        for (JsonNode r : schema.path("required")) {
            if (object.has(r.asText())) {
                List<Object> path = new ArrayList<>(at);
                path.add(r.asText());
                out.add(new RequiredField(path));
            }
        }
        for (Map.Entry<String, JsonNode> property : schema.path("properties").properties()) {
            JsonNode value = object.get(property.getKey());
            if (value == null) continue;
            List<Object> path = new ArrayList<>(at);
            path.add(property.getKey());
            if (value.isObject()) {
                requiredFields(property.getValue(), value, path, out);
            } else if (value.isArray() && !value.isEmpty() && property.getValue().has("items")) {
                path.add(0);
                requiredFields(property.getValue().path("items"), value.get(0), path, out);
            }
        }
    }

    private static JsonNode at(JsonNode node, List<Object> path) {
        for (Object s : path) node = s instanceof Integer i ? node.get(i) : node.get((String) s);
        return node;
    }

    @Test
    void removingAnyRequiredFieldIsRejectedNamingIt() throws IOException {
        Map<String, List<String>> removedPerKind = new TreeMap<>();
        for (var entry : firstOfEachKind().entrySet()) {
            ObjectNode valid = entry.getValue();
            List<RequiredField> required = new ArrayList<>();
            requiredFields(schemas.of(entry.getKey()).strict(), valid, List.of(), required);
            for (RequiredField field : required) {
                ObjectNode broken = valid.deepCopy();
                ((ObjectNode) at(broken, field.path().subList(0, field.path().size() - 1))).remove(field.name());
                assertThat(schemas.validate(entry.getKey(), broken)).as(entry.getKey() + " without " + field.dotted())
                        .anySatisfy(error -> assertThat(error).contains("'" + field.name() + "'"));
                removedPerKind.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).add(field.dotted());
            }
        }
        // Every kind has at least the API server's own required fields; the CRDs add their own.
        assertThat(removedPerKind.keySet()).containsExactlyInAnyOrderElementsOf(schemas.kinds());
        removedPerKind.values().forEach(fields ->
                assertThat(fields).contains("apiVersion", "kind", "metadata", "metadata.name", "metadata.namespace"));
        assertThat(removedPerKind.get("Sidecar")).contains("spec.egress[0].hosts");
        assertThat(removedPerKind.get("ServiceMeshMemberRoll")).contains("spec");
        assertThat(removedPerKind.get("ServiceMeshControlPlane")).contains("spec");
        assertThat(removedPerKind.get("EgressFirewall")).contains("spec", "spec.egress", "spec.egress[0].to", "spec.egress[0].type",
                "spec.egress[0].ports[0].port", "spec.egress[0].ports[0].protocol");
    }

    private void assertRejected(String kind, String why, Consumer<ObjectNode> change, String expected) throws IOException {
        ObjectNode broken = firstOfEachKind().get(kind).deepCopy();
        change.accept(broken);
        assertThat(schemas.validate(broken)).as(kind + ": " + why).anySatisfy(e -> assertThat(e).contains(expected));
    }

    private static ObjectNode spec(ObjectNode o) {
        return (ObjectNode) o.get("spec");
    }

    @Test
    void unknownMistypedAndOutOfEnumFieldsAreRejected() throws IOException {
        for (String kind : schemas.kinds()) {
            assertRejected(kind, "unknown field in spec", o -> {
                if (!o.has("spec")) o.putObject("spec");
                spec(o).put("surplusField", true);
            }, "surplusField");
            assertRejected(kind, "another apiVersion", o -> o.put("apiVersion", "example.com/v9"), "apiVersion");
            assertRejected(kind, "an invalid name", o -> ((ObjectNode) o.get("metadata")).put("name", "Not_A_Name"), "name");
        }
        assertRejected("PeerAuthentication", "mode out of its enum", o -> ((ObjectNode) spec(o).get("mtls")).put("mode", "STRICTT"), "mode");
        assertRejected("PeerAuthentication", "misspelt field", o -> ((ObjectNode) spec(o).get("mtls")).put("mod", "STRICT"), "mod");
        assertRejected("AuthorizationPolicy", "a port as a number", o -> {
            ArrayNode ports = (ArrayNode) at(o, List.of("spec", "rules", 0, "to", 0, "operation", "ports"));
            ports.removeAll().add(3306);
        }, "ports/0: integer found, string expected");
        assertRejected("AuthorizationPolicy", "action in lower case", o -> spec(o).put("action", "allow"), "action");
        assertRejected("AuthorizationPolicy", "misspelt source field", o ->
                ((ObjectNode) at(o, List.of("spec", "rules", 0, "from", 0, "source"))).putArray("principal").add("x"), "principal");
        assertRejected("Sidecar", "hosts as one string", o -> ((ObjectNode) at(o, List.of("spec", "egress", 0))).put("hosts", "istio-system/*"), "hosts");
        assertRejected("Sidecar", "a label value as a number", o -> ((ObjectNode) at(o, List.of("spec", "workloadSelector", "labels"))).put("app", 7), "app");
        assertRejected("EgressFirewall", "not named default", o -> ((ObjectNode) o.get("metadata")).put("name", "egress"), "name");
        assertRejected("EgressFirewall", "both a name and a CIDR", o ->
                ((ObjectNode) at(o, List.of("spec", "egress", 0, "to"))).put("cidrSelector", "0.0.0.0/0"), "to");
        assertRejected("EgressFirewall", "port 0", o -> ((ObjectNode) at(o, List.of("spec", "egress", 0, "ports", 0))).put("port", 0), "port");
        assertRejected("EgressFirewall", "rule type in lower case", o -> ((ObjectNode) at(o, List.of("spec", "egress", 0))).put("type", "allow"), "type");
        assertRejected("ServiceMeshControlPlane", "mtls as a string", o ->
                ((ObjectNode) at(o, List.of("spec", "security", "dataPlane"))).put("mtls", "true"), "mtls");
        assertRejected("ServiceMeshMemberRoll", "members as one string", o -> spec(o).put("members", "openemr"), "members");
    }

    @Test
    void theSchemasAreMinimalButNotEmpty() {
        // A schema that accepted anything would make every test above pass; each must refuse an empty object of its kind.
        for (String kind : schemas.kinds()) {
            CrdSchemas.KindSchema schema = schemas.of(kind);
            ObjectNode bare = YAML.createObjectNode().put("apiVersion", schema.apiVersion()).put("kind", kind);
            assertThat(schemas.validate(bare)).as(kind).anySatisfy(e -> assertThat(e).contains("metadata"));
        }
    }
}
