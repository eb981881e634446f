package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Restarts a Deployment the way {@code kubectl rollout restart} does (a pod-template annotation),
 * then waits like {@code kubectl rollout status}: the controller has observed the new generation
 * and every replica is updated, ready and available, with no old replica left.
 */
public final class KubernetesRolloutConsumer implements Consumer {

    static final String RESTARTED_AT = "tresor.dev/restartedAt";
    static final String SLOT = "tresor.dev/slot";
    private static final long POLL_MILLIS = 200;

    private final ConsumerConfig.KubernetesRollout config;
    private final KubernetesAccess access;
    private final Clock clock;

    public KubernetesRolloutConsumer(ConsumerConfig.KubernetesRollout config, KubernetesAccess access, Clock clock) {
        this.config = config;
        this.access = access;
        this.clock = clock;
    }

    @Override
    public String describe() {
        return config.describe();
    }

    @Override
    public void deliver(DbCredentials credentials, Slot slot) throws ConsumerFailure {
        Deployment restarted;
        try {
            restarted = access.client().apps().deployments().inNamespace(config.namespace()).withName(config.deployment()).edit(d -> {
                Map<String, String> annotations = new HashMap<>(d.getSpec().getTemplate().getMetadata().getAnnotations() == null
                        ? Map.of() : d.getSpec().getTemplate().getMetadata().getAnnotations());
                annotations.put(RESTARTED_AT, clock.instant().toString());
                annotations.put(SLOT, slot.name());
                d.getSpec().getTemplate().getMetadata().setAnnotations(annotations);
                // generation is the API server's (it bumps it for a template change and ignores ours);
                // bumping it here only matters for API emulations that do not.
                d.getMetadata().setGeneration(d.getMetadata().getGeneration() == null ? 1 : d.getMetadata().getGeneration() + 1);
                return d;
            });
        } catch (KubernetesClientException e) {
            throw new ConsumerFailure(describe() + ": " + KubernetesSecretConsumer.explain(e));
        }
        if (restarted == null) {
            throw new ConsumerFailure(describe() + " does not exist");
        }
        awaitRollout(restarted.getMetadata().getGeneration());
    }

    private void awaitRollout(Long generation) throws ConsumerFailure {
        long deadline = System.nanoTime() + config.timeout().toNanos();
        String state;
        while (true) {
            Deployment d;
            try {
                d = access.client().apps().deployments().inNamespace(config.namespace()).withName(config.deployment()).get();
            } catch (KubernetesClientException e) {
                throw new ConsumerFailure(describe() + ": " + KubernetesSecretConsumer.explain(e));
            }
            state = progress(d, generation);
            if (state == null) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new ConsumerFailure(describe() + " did not finish rolling out within " + config.timeout().toSeconds()
                        + " s: " + state);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConsumerFailure(describe() + ": interrupted while waiting for the rollout");
            }
        }
    }

    /** Null when the rollout is complete, else what it is waiting for. */
    static String progress(Deployment d, Long generation) {
        if (d == null) {
            return "the Deployment disappeared";
        }
        DeploymentStatus s = d.getStatus();
        int wanted = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
        if (s == null || s.getObservedGeneration() == null || (generation != null && s.getObservedGeneration() < generation)) {
            return "waiting for the controller to observe generation " + generation;
        }
        int updated = Objects.requireNonNullElse(s.getUpdatedReplicas(), 0);
        int total = Objects.requireNonNullElse(s.getReplicas(), 0);
        int ready = Objects.requireNonNullElse(s.getReadyReplicas(), 0);
        int available = Objects.requireNonNullElse(s.getAvailableReplicas(), 0);
        if (updated < wanted) {
            return updated + " of " + wanted + " replicas updated";
        }
        if (total > updated) {
            return (total - updated) + " old replicas pending termination";
        }
        if (ready < wanted || available < wanted) {
            return available + " of " + wanted + " updated replicas available";
        }
        return null;
    }

    @Override
    public List<String> preflight() {
        List<String> problems = new ArrayList<>();
        try {
            if (access.client().apps().deployments().inNamespace(config.namespace()).withName(config.deployment()).get() == null) {
                problems.add(describe() + " does not exist");
            }
            for (String verb : List.of("get", "patch")) {
                String denied = KubernetesSecretConsumer.denied(access, verb, "apps", "deployments", config.namespace(), config.deployment());
                if (denied != null) {
                    problems.add(describe() + ": " + denied);
                }
            }
        } catch (KubernetesClientException e) {
            problems.add(describe() + ": " + KubernetesSecretConsumer.explain(e));
        }
        return problems;
    }
}
