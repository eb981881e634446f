package dev.tresor.rotation.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kubernetes consumers against fabric8's API mock in CRUD mode, with a fake Deployment controller. */
class KubernetesConsumersTest {

    private static final DbCredentials A = new DbCredentials("app_a", "passwordA", "db", 3306, "openemr");
    private static final DbCredentials B = new DbCredentials("app_b", "passwordB", "db", 3306, "openemr");

    private FakeKubernetes k8s;
    private KubernetesAccess access;

    @BeforeEach
    void start() {
        k8s = new FakeKubernetes();
        k8s.create("openemr-db", "openemr", 2);
        access = KubernetesAccess.of(k8s.client());
    }

    @AfterEach
    void stop() {
        k8s.close();
    }

    private KubernetesSecretConsumer secret(String name) {
        return new KubernetesSecretConsumer(new ConsumerConfig.KubernetesSecret(FakeKubernetes.NAMESPACE, name,
                Map.of("DB_USER", "{{username}}", "DB_PASS", "{{password}}")), access);
    }

    private static String decoded(Secret s, String key) {
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

    @Test
    void secretKeysArePatchedOthersKeptAndRollbackRestoresThem() throws Exception {
        KubernetesSecretConsumer consumer = secret("openemr-db");
        List<Consumer.Candidate> both = List.of(new Consumer.Candidate(Slot.A, A), new Consumer.Candidate(Slot.B, B));
        assertThat(consumer.holds(both)).isEmpty();
        consumer.deliver(B, Slot.B);
        Secret s = k8s.client().secrets().inNamespace(FakeKubernetes.NAMESPACE).withName("openemr-db").get();
        assertThat(decoded(s, "DB_USER")).isEqualTo("app_b");
        assertThat(decoded(s, "DB_PASS")).isEqualTo("passwordB");
        assertThat(decoded(s, "OTHER")).isEqualTo("keep");
        assertThat(consumer.holds(both)).contains(new Consumer.Candidate(Slot.B, B));
        consumer.deliver(A, Slot.A); // what a rollback does
        assertThat(consumer.holds(both)).contains(new Consumer.Candidate(Slot.A, A));
        assertThat(consumer.preflight()).isEmpty();
    }

    @Test
    void aMissingSecretIsReportedNotCreated() {
        KubernetesSecretConsumer consumer = secret("nope");
        assertThatThrownBy(() -> consumer.deliver(A, Slot.A)).isInstanceOf(Consumer.ConsumerFailure.class)
                .hasMessageContaining("kubernetes-secret app/nope: does not exist").hasMessageNotContaining("passwordA");
        assertThat(consumer.preflight()).anyMatch(p -> p.contains("does not exist"));
        assertThat(k8s.client().secrets().inNamespace(FakeKubernetes.NAMESPACE).withName("nope").get()).isNull();
    }

    @Test
    void rolloutIsRestartedAndAwaited() throws Exception {
        KubernetesRolloutConsumer consumer = new KubernetesRolloutConsumer(new ConsumerConfig.KubernetesRollout(
                FakeKubernetes.NAMESPACE, "openemr", Duration.ofSeconds(30)), access, Clock.systemUTC());
        int before = k8s.rollouts();
        consumer.deliver(B, Slot.B);
        assertThat(k8s.rollouts()).as("the controller rolled the Deployment out before deliver returned").isGreaterThan(before);
        Deployment d = k8s.client().apps().deployments().inNamespace(FakeKubernetes.NAMESPACE).withName("openemr").get();
        assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsKey(KubernetesRolloutConsumer.RESTARTED_AT).containsEntry(KubernetesRolloutConsumer.SLOT, "B");
        assertThat(KubernetesRolloutConsumer.progress(d, d.getMetadata().getGeneration())).isNull();
        assertThat(consumer.preflight()).isEmpty();
    }

    @Test
    void aRolloutThatDoesNotFinishTimesOutNamingWhy() {
        k8s.pause(true);
        KubernetesRolloutConsumer consumer = new KubernetesRolloutConsumer(new ConsumerConfig.KubernetesRollout(
                FakeKubernetes.NAMESPACE, "openemr", Duration.ofSeconds(1)), access, Clock.systemUTC());
        assertThatThrownBy(() -> consumer.deliver(A, Slot.A)).isInstanceOf(Consumer.ConsumerFailure.class)
                .hasMessageContaining("did not finish rolling out within 1 s")
                .hasMessageContaining("waiting for the controller to observe generation");
    }

    @Test
    void progressFollowsKubectlRolloutStatus() {
        Deployment d = k8s.client().apps().deployments().inNamespace(FakeKubernetes.NAMESPACE).withName("openemr").get();
        assertThat(KubernetesRolloutConsumer.progress(d, 1L)).isNull();
        d.getStatus().setUpdatedReplicas(1);
        assertThat(KubernetesRolloutConsumer.progress(d, 1L)).isEqualTo("1 of 2 replicas updated");
        d.getStatus().setUpdatedReplicas(2);
        d.getStatus().setReplicas(3);
        assertThat(KubernetesRolloutConsumer.progress(d, 1L)).isEqualTo("1 old replicas pending termination");
        d.getStatus().setReplicas(2);
        d.getStatus().setAvailableReplicas(1);
        assertThat(KubernetesRolloutConsumer.progress(d, 1L)).isEqualTo("1 of 2 updated replicas available");
        assertThat(KubernetesRolloutConsumer.progress(d, 2L)).startsWith("waiting for the controller");
    }
}
