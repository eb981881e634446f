package dev.tresor.mesh.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.tresor.mesh.MeshCommand;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * examples/openemr/k8s, the kustomize overlay a user takes from the one-machine demo to a cluster.
 * No kubectl runs here, so the overlay is checked piece by piece: the committed mesh manifests are
 * exactly a fresh render, the kustomization names every one of them and only files that exist,
 * every other manifest (the overlay's and deploy/k8s's) is a Kubernetes object with no field the
 * typed fabric8 model does not know, and every patch's target and JSON-pointer path exist in the
 * base it patches.
 */
class OpenEmrOverlayTest {

    private static final Path EXAMPLE = Path.of("..", "examples", "openemr");
    private static final Path OVERLAY = EXAMPLE.resolve("k8s");
    private static final Path BASE = Path.of("..", "deploy", "k8s");
    private static final ObjectMapper YAML = new YAMLMapper();
    private final KubernetesSerialization kubernetes = new KubernetesSerialization();

    @Test
    void theCommittedMeshManifestsAreAFreshRender(@TempDir Path dir) throws IOException {
        StringWriter err = new StringWriter();
        CommandLine render = new CommandLine(new MeshCommand());
        render.setOut(new PrintWriter(new StringWriter(), true));
        render.setErr(new PrintWriter(err, true));
        int exit = render.execute("render", "--topology", EXAMPLE.resolve("topology.yaml").toString(), "--out", dir.toString());
        assertThat(exit).as(err.toString()).isZero();

        assertThat(fileNames(OVERLAY.resolve("mesh"))).as("re-render: tresor mesh render --topology "
                + "examples/openemr/topology.yaml --out examples/openemr/k8s/mesh").isEqualTo(fileNames(dir));
        for (String name : fileNames(dir)) {
            assertThat(Files.readString(OVERLAY.resolve("mesh").resolve(name))).as(name).isEqualTo(Files.readString(dir.resolve(name)));
        }
    }

    @Test
    void theKustomizationNamesEveryMeshManifestAndOnlyWhatExists() throws IOException {
        JsonNode kustomization = YAML.readTree(OVERLAY.resolve("kustomization.yaml").toFile());
        assertThat(kustomization.path("kind").asText()).isEqualTo("Kustomization");
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        for (String resource : resources) {
            Path path = OVERLAY.resolve(resource).normalize();
            assertThat(Files.isRegularFile(path) || Files.isRegularFile(path.resolve("kustomization.yaml")))
                    .as("resource %s (%s) is a file or a folder with a kustomization.yaml", resource, path).isTrue();
        }
        List<String> meshResources = resources.stream().filter(r -> r.startsWith("mesh/")).map(r -> r.substring(5)).toList();
        assertThat(meshResources).containsExactlyElementsOf(fileNames(OVERLAY.resolve("mesh")));

        // deploy/k8s as a base: it names each of its manifests.
        JsonNode base = YAML.readTree(BASE.resolve("kustomization.yaml").toFile());
        List<String> baseResources = new ArrayList<>();
        base.path("resources").forEach(r -> baseResources.add(r.asText()));
        assertThat(baseResources).containsExactlyInAnyOrderElementsOf(
                fileNames(BASE).stream().filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).toList());
    }

    @Test
    void everyOtherManifestIsAKubernetesObjectWithKnownFieldsOnly() throws IOException {
        for (Path file : plainManifests()) {
            for (JsonNode document : documents(file)) {
                String where = file + " " + document.path("kind").asText() + " " + document.at("/metadata/name").asText();
                assertThat(document.path("apiVersion").asText()).as(where).isNotBlank();
                assertThat(document.at("/metadata/name").asText()).as(where).isNotBlank();
                if (!document.path("kind").asText().equals("Namespace")) {
                    assertThat(document.at("/metadata/namespace").asText()).as(where + ": namespace").isIn("openemr", "tresor");
                }
                KubernetesResource typed = kubernetes.unmarshal(YAML.writeValueAsString(document));
                assertThat(typed).as(where + ": a kind the Kubernetes model knows").isNotInstanceOf(GenericKubernetesResource.class);
                List<String> unknown = new ArrayList<>();
                unknownFields(typed, "", unknown);
                assertThat(unknown).as(where + ": fields Kubernetes does not have (a typo is dropped silently by the API server)").isEmpty();
            }
        }
    }

    @Test
    void everyPatchTargetsAnObjectAndAPathThatExist() throws IOException {
        JsonNode kustomization = YAML.readTree(OVERLAY.resolve("kustomization.yaml").toFile());
        List<JsonNode> objects = new ArrayList<>();
        for (Path file : plainManifests()) {
            objects.addAll(documents(file));
        }
        assertThat(kustomization.path("patches").size()).isPositive();
        for (JsonNode patch : kustomization.path("patches")) {
            String kind = patch.at("/target/kind").asText();
            String name = patch.at("/target/name").asText();
            List<JsonNode> targets = objects.stream()
                    .filter(o -> o.path("kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name)).toList();
            assertThat(targets).as("patch target %s/%s", kind, name).hasSize(1);
            JsonNode operations = YAML.readTree(patch.path("patch").asText());
            assertThat(operations).as("%s/%s: a JSON 6902 patch", kind, name).isInstanceOf(ArrayNode.class);
            for (JsonNode op : operations) {
                String path = op.path("path").asText();
                assertThat(targets.getFirst().at(path).isMissingNode()).as("%s/%s has %s (%s)", kind, name, path, op.path("op").asText())
                        .isFalse();
            }
        }
        // The base's job and agent talk to the server of tresor-server.yaml (its Service, port 8443).
        JsonNode cronJob = only(objects, "CronJob", "tresor-rotation");
        assertThat(cronJob.at("/spec/jobTemplate/spec/template/spec/containers/0/env/0/name").asText()).isEqualTo("TRESOR_ADDR");
        assertThat(cronJob.at("/spec/jobTemplate/spec/template/spec/containers/0/env/0/value").asText())
                .isEqualTo("https://tresor.tresor.svc:8443");
        JsonNode agent = only(objects, "ConfigMap", "tresor-agent");
        assertThat(agent.at("/data/agent.yaml").asText()).contains("server: https://tresor.tresor.svc:8443");
        JsonNode service = only(objects, "Service", "tresor");
        assertThat(service.at("/metadata/namespace").asText()).isEqualTo("tresor");
        assertThat(service.at("/spec/ports/0/port").asInt()).isEqualTo(8443);
        // The JSON pointer that names a list index points where the comment says.
        JsonNode role = only(objects, "Role", "tresor-rotation");
        assertThat(role.at("/rules/1/resources/0").asText()).isEqualTo("deployments");
        // The rotation definition the overlay puts in instead no longer restarts the Deployment.
        String rotation = kustomization.path("patches").get(0).path("patch").asText();
        assertThat(rotation).contains("kind: kubernetes-secret").doesNotContain("kubernetes-rollout");
    }

    private static JsonNode only(List<JsonNode> objects, String kind, String name) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind) && o.at("/metadata/name").asText().equals(name))
                .findFirst().orElseThrow();
    }

    /** The overlay's own manifests and the base's; the mesh manifests have their CRD schema tests. */
    private static List<Path> plainManifests() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path dir : List.of(OVERLAY, BASE)) {
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml"))
                        .sorted().forEach(files::add);
            }
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(6);
        return files;
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(file.toFile())) {
            var values = YAML.readValues(parser, JsonNode.class);
            while (values.hasNext()) {
                JsonNode node = values.next();
                if (node != null && !node.isNull() && !node.isEmpty()) {
                    out.add(node);
                }
            }
        }
        return out;
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return new ArrayList<>(list.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toCollection(TreeSet::new)));
        }
    }

    /**
     * fabric8's model classes keep a field they do not know in {@code additionalProperties}; any
     * entry there, at any depth, is a field Kubernetes would not know either.
     */
    private static void unknownFields(Object value, String path, List<String> unknown) {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                unknownFields(item, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, unknown));
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers()) || getter.getDeclaringClass() == Object.class
                    || !(getter.getName().startsWith("get") || getter.getName().startsWith("is"))) {
                continue;
            }
            Object child;
            try {
                child = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                }
                continue;
            }
            String field = getter.getName().startsWith("is") ? getter.getName().substring(2) : getter.getName().substring(3);
            unknownFields(child, path + "." + Character.toLowerCase(field.charAt(0)) + field.substring(1), unknown);
        }
    }
}
