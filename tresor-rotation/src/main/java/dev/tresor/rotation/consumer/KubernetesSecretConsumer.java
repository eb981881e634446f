package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Patches keys of a Kubernetes Secret with the slot's credentials (each key rendered from its
 * template); other keys are left alone. Reads the Secret back to tell which slot it holds.
 * The Secret must exist (the rotation's Role may only get and patch that one name).
 */
public final class KubernetesSecretConsumer implements Consumer {

    private final ConsumerConfig.KubernetesSecret config;
    private final KubernetesAccess access;
    private final Map<String, Template> templates = new LinkedHashMap<>();

    public KubernetesSecretConsumer(ConsumerConfig.KubernetesSecret config, KubernetesAccess access) {
        this.config = config;
        this.access = access;
        config.data().forEach((key, text) -> templates.put(key, Template.parse(config.describe() + " key " + key, text)));
    }

    @Override
    public String describe() {
        return config.describe();
    }

    private Map<String, String> render(DbCredentials c, Slot slot) {
        Map<String, String> out = new HashMap<>();
        templates.forEach((key, template) -> out.put(key, Base64.getEncoder().encodeToString(
                template.render(c, slot).getBytes(StandardCharsets.UTF_8))));
        return out;
    }

    @Override
    public void deliver(DbCredentials credentials, Slot slot) throws ConsumerFailure {
        Map<String, String> values = render(credentials, slot);
        try {
            Secret edited = access.client().secrets().inNamespace(config.namespace()).withName(config.name()).edit(s -> {
                Map<String, String> data = new HashMap<>(s.getData() == null ? Map.of() : s.getData());
                data.putAll(values);
                s.setData(data);
                if (s.getStringData() != null) {
                    values.keySet().forEach(s.getStringData()::remove);
                }
                return s;
            });
            if (edited == null) {
                throw new ConsumerFailure(describe() + " does not exist; create it first (the rotation patches keys, it never creates)");
            }
        } catch (KubernetesClientException e) {
            throw new ConsumerFailure(describe() + ": " + explain(e));
        }
    }

    static String explain(KubernetesClientException e) {
        return switch (e.getCode()) {
            case 404 -> "does not exist; create it first (the rotation patches keys, it never creates)";
            case 401, 403 -> "refused (HTTP " + e.getCode() + "): the rotation's service account needs get and patch on it"
                    + " (deploy/k8s/rbac.yaml)";
            default -> "Kubernetes API error" + (e.getCode() > 0 ? " HTTP " + e.getCode() : "") + ": "
                    + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getClass().getSimpleName());
        };
    }

    @Override
    public boolean canTell() {
        return true;
    }

    @Override
    public Optional<Candidate> holds(List<Candidate> candidates) {
        Secret secret;
        try {
            secret = access.client().secrets().inNamespace(config.namespace()).withName(config.name()).get();
        } catch (KubernetesClientException e) {
            return Optional.empty();
        }
        if (secret == null || secret.getData() == null) {
            return Optional.empty();
        }
        for (Candidate c : candidates) {
            Map<String, String> expected = render(c.credentials(), c.slot());
            if (expected.entrySet().stream().allMatch(e -> e.getValue().equals(secret.getData().get(e.getKey())))) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<String> preflight() {
        List<String> problems = new ArrayList<>();
        try {
            if (access.client().secrets().inNamespace(config.namespace()).withName(config.name()).get() == null) {
                problems.add(describe() + " does not exist; create it first");
            }
            for (String verb : List.of("get", "patch")) {
                String denied = denied(access, verb, "", "secrets", config.namespace(), config.name());
                if (denied != null) {
                    problems.add(describe() + ": " + denied);
                }
            }
        } catch (KubernetesClientException e) {
            problems.add(describe() + ": " + explain(e));
        }
        return problems;
    }

    /** Asks the API server whether this identity may do {@code verb}; null if allowed or if the server gives no answer. */
    static String denied(KubernetesAccess access, String verb, String group, String resource, String namespace, String name) {
        SelfSubjectAccessReview review;
        try {
            review = access.client().authorization().v1().selfSubjectAccessReview().create(
                    new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                            .withVerb(verb).withGroup(group).withResource(resource).withNamespace(namespace).withName(name)
                            .endResourceAttributes().endSpec().build());
        } catch (KubernetesClientException e) {
            if (e.getCode() == 401 || e.getCode() == 403) {
                throw e;
            }
            return null; // an API (or emulation) without access reviews: RBAC cannot be confirmed in advance
        }
        if (review == null || review.getStatus() == null || review.getStatus().getAllowed() == null) {
            return null;
        }
        return review.getStatus().getAllowed() ? null : "this service account may not " + verb + " " + resource + "/" + name
                + " in " + namespace + " (RBAC: see deploy/k8s/rbac.yaml)";
    }
}
