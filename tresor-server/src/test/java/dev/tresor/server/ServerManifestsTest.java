package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/k8s/server (kustomize base): every file the kustomization names exists and parses; the
 * Deployment runs 3 replicas that never drop below 3 ready during a rollout, probes the management
 * port that tresor.yaml listens on, gives the drain time to finish (preStop + DRAIN_TIMEOUT below
 * the grace period), runs the image deploy/Dockerfile builds as its user; Service, PDB and
 * NetworkPolicy select the same pods; and tresor.yaml loads with the server's own ConfigLoader,
 * every file it names lying on a mounted volume.
 */
class ServerManifestsTest {

    private static final Path BASE = Path.of("../deploy/k8s/server");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @TempDir
    Path root;

    private static List<JsonNode> documents(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc != null && !doc.isMissingNode() && !doc.isNull()) {
                    out.add(doc);
                }
            }
        }
        return out;
    }

    private static Map<String, JsonNode> objects() throws Exception {
        JsonNode kustomization = documents(BASE.resolve("kustomization.yaml")).getFirst();
        Map<String, JsonNode> byKind = new HashMap<>();
        for (JsonNode resource : kustomization.get("resources")) {
            Path file = BASE.resolve(resource.asText());
            assertThat(file).as("named by kustomization.yaml").isRegularFile();
            for (JsonNode doc : documents(file)) {
                byKind.put(doc.get("kind").asText() + "/" + doc.at("/metadata/name").asText(), doc);
            }
        }
        for (JsonNode generated : kustomization.get("configMapGenerator")) {
            for (JsonNode file : generated.get("files")) {
                assertThat(BASE.resolve(file.asText())).isRegularFile();
            }
        }
        return byKind;
    }

    @Test
    void theDeploymentRollsWithoutLosingCapacityAndDrainsInItsGracePeriod() throws Exception {
        Map<String, JsonNode> objects = objects();
        JsonNode deployment = objects.get("Deployment/tresor-server");
        JsonNode spec = deployment.get("spec");
        assertThat(spec.get("replicas").asInt()).isEqualTo(3);
        assertThat(spec.at("/strategy/rollingUpdate/maxUnavailable").asInt()).isZero();
        JsonNode pod = spec.at("/template/spec");
        JsonNode container = pod.get("containers").get(0);
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
        assertThat(container.at("/readinessProbe/httpGet/port").asText()).isEqualTo("management");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/healthz");
        int preStop = Integer.parseInt(container.at("/lifecycle/preStop/exec/command").get(1).asText());
        assertThat(pod.get("terminationGracePeriodSeconds").asLong())
                .as("preStop + Tresor's drain of in-flight requests fit before the SIGKILL")
                .isGreaterThan(preStop + TresorServer.DRAIN_TIMEOUT.toSeconds());
        assertThat(pod.at("/affinity/podAntiAffinity")).isNotNull();
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();

        // The image deploy/Dockerfile builds (tresor:VERSION, user 10001).
        String dockerfile = Files.readString(Path.of("../deploy/Dockerfile"));
        Matcher version = Pattern.compile("ARG VERSION=(\\S+)").matcher(dockerfile);
        assertThat(version.find()).isTrue();
        JsonNode kustomization = documents(BASE.resolve("kustomization.yaml")).getFirst();
        assertThat(container.get("image").asText()).isEqualTo(kustomization.at("/images/0/name").asText()).isEqualTo("tresor");
        assertThat(kustomization.at("/images/0/newTag").asText()).isEqualTo(version.group(1));
        assertThat(dockerfile).contains("USER 10001");
        assertThat(pod.at("/securityContext/runAsUser").asInt()).isEqualTo(10001);

        // Service, PodDisruptionBudget and NetworkPolicy select the Deployment's pods.
        JsonNode labels = spec.at("/template/metadata/labels");
        for (String other : List.of("Service/tresor", "Service/tresor-management", "PodDisruptionBudget/tresor-server",
                "NetworkPolicy/tresor-server")) {
            JsonNode o = objects.get(other);
            assertThat(o).as(other).isNotNull();
            JsonNode selector = o.at("/spec/selector/matchLabels").isMissingNode() ? o.at("/spec/selector") : o.at("/spec/selector/matchLabels");
            if (other.startsWith("NetworkPolicy")) {
                selector = o.at("/spec/podSelector/matchLabels");
            }
            selector.fields().forEachRemaining(e -> assertThat(labels.get(e.getKey()).asText()).as(other).isEqualTo(e.getValue().asText()));
        }
        assertThat(objects.get("PodDisruptionBudget/tresor-server").at("/spec/maxUnavailable").asInt()).isEqualTo(1);
    }

    @Test
    void tresorYamlLoadsAndEveryFileItNamesIsMounted() throws Exception {
        JsonNode pod = objects().get("Deployment/tresor-server").at("/spec/template/spec");
        JsonNode container = pod.get("containers").get(0);
        List<String> mounts = new ArrayList<>();
        container.get("volumeMounts").forEach(m -> mounts.add(m.get("mountPath").asText()));
        String configPath = container.get("args").get(2).asText();
        assertThat(mounts).anyMatch(m -> configPath.startsWith(m + "/"));

        String yaml = Files.readString(BASE.resolve("tresor.yaml"));
        Matcher paths = Pattern.compile("(/(?:etc|var)/[A-Za-z0-9/._-]+)").matcher(yaml);
        String rooted = yaml;
        while (paths.find()) {
            String path = paths.group(1);
            assertThat(mounts).as(path + " lies on a mounted volume").anyMatch(m -> path.startsWith(m + "/"));
            Path local = root.resolve(path.substring(1));
            Files.createDirectories(local.getParent());
            if (!path.endsWith("audit.log")) {
                Files.writeString(local, "placeholder\n");
            }
        }
        rooted = rooted.replace("/etc/tresor/", root + "/etc/tresor/").replace("/var/lib/tresor/", root + "/var/lib/tresor/");
        Path config = root.resolve("tresor.yaml");
        Files.writeString(config, rooted);
        ServerSettings settings = ConfigLoader.load(config);
        assertThat(settings.store().kind()).isEqualTo("postgresql");
        assertThat(settings.managementAddress().getPort()).isEqualTo(8444);
        assertThat(settings.apiAddress().getPort()).isEqualTo(8443);
        List<Integer> ports = new ArrayList<>();
        container.get("ports").forEach(p -> ports.add(p.get("containerPort").asInt()));
        assertThat(ports).containsExactlyInAnyOrder(8443, 8444);
        // The audit log's folder is a writable volume (the chain, its anchor and audit.log.node live there).
        String auditDir = "/var/lib/tresor/audit";
        assertThat(container.get("volumeMounts")).anySatisfy(m -> {
            assertThat(m.get("mountPath").asText()).isEqualTo(auditDir);
            assertThat(m.path("readOnly").asBoolean(false)).isFalse();
        });
    }
}
