package dev.tresor.rotation.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/k8s: the manifests parse, the CronJob is safe by default, the Role is least privilege and the definition loads. */
class DeployManifestsTest {

    private static final Path DEPLOY = Path.of("../deploy/k8s");

    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    private static List<HasMetadata> load(String file) throws Exception {
        try (InputStream in = Files.newInputStream(DEPLOY.resolve(file))) {
            Object parsed = Serialization.unmarshal(in);
            return parsed instanceof List<?> list ? (List<HasMetadata>) list : List.of((HasMetadata) parsed);
        }
    }

    @Test
    void cronJobIsSuspendedAndNeverOverlaps() throws Exception {
        CronJob job = (CronJob) load("cronjob.yaml").getFirst();
        assertThat(job.getSpec().getSuspend()).isTrue();
        assertThat(job.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
        var pod = job.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo("tresor-rotation");
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getContainers().getFirst().getArgs()).containsSequence("rotate", "run");
    }

    @Test
    void roleNamesExactlyTheConsumersObjects() throws Exception {
        Role role = load("rbac.yaml").stream().filter(Role.class::isInstance).map(Role.class::cast).findFirst().orElseThrow();
        List<String> named = new ArrayList<>();
        for (PolicyRule rule : role.getRules()) {
            assertThat(rule.getResourceNames()).as("every rule names its objects").isNotEmpty();
            assertThat(rule.getVerbs()).doesNotContain("list", "watch", "create", "delete", "*");
            named.addAll(rule.getResources().stream().map(r -> r + "/" + String.join(",", rule.getResourceNames())).toList());
        }
        assertThat(named).containsExactlyInAnyOrder("secrets/openemr-db", "deployments/openemr");
    }

    @Test
    void theDefinitionInTheConfigMapLoads() throws Exception {
        ConfigMap map = (ConfigMap) load("configmap.yaml").getFirst();
        Files.writeString(dir.resolve("db-ca.crt"), "-");
        String text = map.getData().get("rotation.yaml").replace("/etc/tresor/identity/db-ca.crt", dir.resolve("db-ca.crt").toString());
        RotationConfig c = RotationConfigLoader.parse(text, dir.resolve("rotation.yaml"));
        assertThat(c.consumers()).hasAtLeastOneElementOfType(ConsumerConfig.KubernetesSecret.class)
                .hasAtLeastOneElementOfType(ConsumerConfig.KubernetesRollout.class);
        assertThat(c.consumers().stream().filter(ConsumerConfig.KubernetesSecret.class::isInstance)
                .map(k -> ((ConsumerConfig.KubernetesSecret) k).name())).containsExactly("openemr-db");
    }

    /**
     * examples/openemr/k8s replaces the definition by a JSON patch: it must load too, keep the
     * Secret consumer and restart nothing (the agent sidecar delivers the new slot).
     */
    @Test
    void theOpenEmrOverlaysDefinitionLoads() throws Exception {
        var yaml = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper();
        var kustomization = yaml.readTree(Path.of("../examples/openemr/k8s/kustomization.yaml").toFile());
        String definition = null;
        for (var patch : kustomization.path("patches")) {
            if (patch.at("/target/kind").asText().equals("ConfigMap") && patch.at("/target/name").asText().equals("tresor-rotation")) {
                var operation = yaml.readTree(patch.path("patch").asText()).get(0);
                assertThat(operation.path("path").asText()).isEqualTo("/data/rotation.yaml");
                definition = operation.path("value").asText();
            }
        }
        assertThat(definition).as("the overlay's patch of the tresor-rotation ConfigMap").isNotNull();
        Files.writeString(dir.resolve("db-ca.crt"), "-");
        RotationConfig c = RotationConfigLoader.parse(definition.replace("/etc/tresor/identity/db-ca.crt",
                dir.resolve("db-ca.crt").toString()), dir.resolve("rotation.yaml"));
        assertThat(c.consumers()).hasAtLeastOneElementOfType(ConsumerConfig.KubernetesSecret.class)
                .noneMatch(ConsumerConfig.KubernetesRollout.class::isInstance);
    }
}
