package dev.tresor.mesh.kube;

import dev.tresor.mesh.render.Manifest;
import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.Workload;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * apply, status and cleanup of rendered manifests through the fabric8 client. Apply writes only
 * what is missing or drifted (create, or update of tresor's fields with the resourceVersion), so
 * applying twice writes nothing the second time; cleanup deletes only objects carrying the
 * managed-by label.
 */
public final class MeshCluster {

    private final KubernetesClient client;
    private final KubernetesSerialization serialization = new KubernetesSerialization();

    public MeshCluster(KubernetesClient client) {
        this.client = client;
    }

    /** What apply did (or, with dry-run, would do) to one object. */
    public record Change(String kind, String name, Action action, List<String> diff) {
        public enum Action { CREATE, UPDATE, UNCHANGED, UNAVAILABLE }
    }

    /** One line of status: the object's state and, for problems, the fix. */
    public record Finding(String subject, String state, String fix) {
        public boolean problem() {
            return fix != null;
        }

        @Override
        public String toString() {
            return subject + ": " + state + (fix == null ? "" : " -> " + fix);
        }
    }

    public List<Change> apply(List<Manifest> manifests, boolean dryRun) {
        List<Change> changes = new ArrayList<>();
        for (Manifest m : manifests) {
            GenericKubernetesResource current;
            try {
                current = resourceOf(m).get();
            } catch (KubernetesClientException e) {
                changes.add(new Change(m.kind(), m.name(), Change.Action.UNAVAILABLE, List.of(unavailable(m, e))));
                continue;
            }
            List<String> diff = new ArrayList<>();
            Map<String, Object> currentBody = current == null ? null : asMap(current);
            if (currentBody != null) {
                differences("", m.body(), currentBody, diff);
            }
            Change.Action action = current == null ? Change.Action.CREATE : diff.isEmpty() ? Change.Action.UNCHANGED : Change.Action.UPDATE;
            if (!dryRun && action != Change.Action.UNCHANGED) {
                GenericKubernetesResource desired = serialization.convertValue(m.body(), GenericKubernetesResource.class);
                try {
                    if (current == null) {
                        resource(m).resource(desired).create();
                    } else {
                        resource(m).resource(merged(current, desired)).update();
                    }
                } catch (KubernetesClientException e) {
                    // A kind the cluster does not serve reads as absent (GET 404) and fails only here.
                    if (e.getCode() != 404) throw e;
                    changes.add(new Change(m.kind(), m.name(), Change.Action.UNAVAILABLE, List.of(unavailable(m, e))));
                    continue;
                }
            }
            changes.add(new Change(m.kind(), m.name(), action, List.copyOf(diff)));
        }
        return changes;
    }

    /**
     * The current object with tresor's labels, annotations and spec put back. Written with its
     * resourceVersion, so a concurrent change fails instead of being overwritten; labels and
     * annotations others added are kept. (Server-side apply would be the natural call, but the
     * fabric8 mock server the tests run against answers it with 415, so it would go untested.)
     */
    private static GenericKubernetesResource merged(GenericKubernetesResource current, GenericKubernetesResource desired) {
        var metadata = current.getMetadata();
        Map<String, String> labels = new java.util.TreeMap<>(metadata.getLabels() == null ? Map.of() : metadata.getLabels());
        labels.putAll(desired.getMetadata().getLabels());
        Map<String, String> annotations = new java.util.TreeMap<>(metadata.getAnnotations() == null ? Map.of() : metadata.getAnnotations());
        annotations.putAll(desired.getMetadata().getAnnotations());
        metadata.setLabels(labels);
        metadata.setAnnotations(annotations);
        if (desired.getAdditionalProperties().containsKey("spec")) {
            current.setAdditionalProperty("spec", desired.getAdditionalProperties().get("spec"));
        }
        return current;
    }

    /** Present, missing or drifted for every rendered object, managed objects no longer rendered, and each pod's sidecar. */
    public List<Finding> status(List<Manifest> manifests, String namespace) {
        List<Finding> findings = new ArrayList<>();
        for (Manifest m : manifests) {
            String subject = m.kind() + " " + (m.namespace() == null ? "" : m.namespace() + "/") + m.name();
            GenericKubernetesResource current;
            try {
                current = resourceOf(m).get();
            } catch (KubernetesClientException e) {
                findings.add(new Finding(subject, "kind not served", unavailable(m, e)));
                continue;
            }
            if (current == null) {
                findings.add(new Finding(subject, "missing", missingFix(m)));
                continue;
            }
            List<String> diff = new ArrayList<>();
            differences("", m.body(), asMap(current), diff);
            findings.add(diff.isEmpty() ? new Finding(subject, "present", null)
                    : new Finding(subject, "drifted (" + String.join("; ", diff) + ")", "run tresor mesh apply to restore the rendered form"));
        }
        for (String kind : Kinds.CLEANUP_ORDER) {
            for (GenericKubernetesResource r : managed(kind, namespace)) {
                boolean rendered = manifests.stream().anyMatch(m -> m.kind().equals(kind) && m.name().equals(r.getMetadata().getName()));
                if (!rendered) {
                    findings.add(new Finding(kind + " " + namespace + "/" + r.getMetadata().getName(), "managed by tresor but not in the topology",
                            "run tresor mesh cleanup, then apply"));
                }
            }
        }
        for (Pod pod : client.pods().inNamespace(namespace).list().getItems()) {
            findings.add(sidecar(pod));
        }
        return findings;
    }

    /**
     * For each workload, whether its pods run under the service account the topology names: the
     * AuthorizationPolicies allow that principal only, so a Deployment using another account is
     * refused by every peer (the OpenEMR project's "principal mismatch").
     */
    public List<Finding> principals(Topology topology) {
        List<Finding> findings = new ArrayList<>();
        for (Workload w : topology.workloads()) {
            List<Pod> pods = client.pods().inNamespace(topology.namespace()).withLabels(w.labels()).list().getItems();
            if (pods.isEmpty()) {
                findings.add(new Finding("Workload " + w.name(), "no pod matches labels " + w.labels(),
                        "deploy it, or make the topology's labels match its pod template"));
            }
            for (Pod pod : pods) {
                String account = pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null
                        ? "default" : pod.getSpec().getServiceAccountName();
                String subject = "Pod " + topology.namespace() + "/" + pod.getMetadata().getName() + " (" + w.name() + ")";
                if (account.equals(w.serviceAccount())) {
                    findings.add(new Finding(subject, "principal " + topology.principal(topology.namespace(), account), null));
                } else {
                    findings.add(new Finding(subject, "principal mismatch: runs as service account " + account + ", the policies allow "
                            + topology.principal(w), "set serviceAccountName: " + w.serviceAccount() + " in its pod template, or change the topology"));
                }
            }
        }
        return findings;
    }

    /** Deletes the managed objects of the namespace (and its SMMR/SMCP) in fail-closed order; the Namespace itself is kept. */
    public List<String> cleanup(String namespace, String controlPlaneNamespace) {
        List<String> removed = new ArrayList<>();
        for (String kind : Kinds.CLEANUP_ORDER) {
            String ns = kind.startsWith("ServiceMesh") ? controlPlaneNamespace : namespace;
            List<GenericKubernetesResource> objects = new ArrayList<>(managed(kind, ns));
            // Baselines (deny-all, default-deny) last within their kind.
            objects.sort(Comparator.comparing((GenericKubernetesResource r) -> r.getMetadata().getName().startsWith("default-deny")
                    || r.getMetadata().getName().equals("deny-all")).thenComparing(r -> r.getMetadata().getName()));
            for (GenericKubernetesResource r : objects) {
                client.genericKubernetesResources(Kinds.of(kind)).inNamespace(ns).withName(r.getMetadata().getName()).delete();
                removed.add(kind + " " + ns + "/" + r.getMetadata().getName());
            }
        }
        return removed;
    }

    private List<GenericKubernetesResource> managed(String kind, String namespace) {
        try {
            return client.genericKubernetesResources(Kinds.of(kind)).inNamespace(namespace)
                    .withLabel(Renderer.MANAGED_BY_LABEL, Renderer.MANAGED_BY).list().getItems();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) return List.of();
            throw e;
        }
    }

    private static Finding sidecar(Pod pod) {
        String name = "Pod " + pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        int total = pod.getSpec() == null ? 0 : pod.getSpec().getContainers().size();
        long ready = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? 0
                : pod.getStatus().getContainerStatuses().stream().filter(s -> Boolean.TRUE.equals(s.getReady())).count();
        boolean hasProxy = pod.getSpec() != null && pod.getSpec().getContainers().stream().anyMatch(c -> "istio-proxy".equals(c.getName()));
        String state = ready + "/" + total + " ready" + (hasProxy ? ", sidecar injected" : ", no sidecar");
        if (!hasProxy) {
            return new Finding(name, state, "the namespace is not in the mesh (missing ServiceMeshMemberRoll membership or "
                    + "istio-injection label, or the pod predates it): fix membership, then restart the pod");
        }
        if (ready < total) {
            return new Finding(name, state, "a container is not ready; check the istio-proxy log (a NetworkPolicy blocking istiod on 15012?)");
        }
        return new Finding(name, state, null);
    }

    private static String missingFix(Manifest m) {
        return switch (m.kind()) {
            case "ServiceMeshMemberRoll" -> "the namespace is not a mesh member: run tresor mesh apply --full";
            default -> "run tresor mesh apply";
        };
    }

    private static String unavailable(Manifest m, KubernetesClientException e) {
        String hint = switch (m.kind()) {
            case "EgressFirewall" -> "the cluster does not serve k8s.ovn.org/v1 EgressFirewall: OVN-Kubernetes is not the CNI; use --netpol-only plus a proxy for egress";
            case "ServiceMeshControlPlane", "ServiceMeshMemberRoll" -> "the OpenShift Service Mesh operator is not installed";
            case "PeerAuthentication", "AuthorizationPolicy", "Sidecar" -> "Istio's CRDs are not installed: install the mesh, or use --netpol-only";
            default -> "the API server refused " + m.kind();
        };
        return hint + " (" + e.getCode() + ")";
    }

    private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> resource(Manifest m) {
        MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> op =
                client.genericKubernetesResources(Kinds.of(m.kind()));
        return m.namespace() == null ? op : op.inNamespace(m.namespace());
    }

    private Resource<GenericKubernetesResource> resourceOf(Manifest m) {
        return resource(m).withName(m.name());
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> asMap(GenericKubernetesResource resource) {
        return serialization.convertValue(resource, Map.class);
    }

    /**
     * Where {@code current} differs from {@code desired}: every field rendered must be there with the
     * same value; fields the server adds (status, uid, defaults) are not drift.
     */
    @SuppressWarnings("unchecked")
    static void differences(String path, Object desired, Object current, List<String> out) {
        if (desired instanceof Map<?, ?> d) {
            if (!(current instanceof Map<?, ?> c)) {
                out.add(path + " differs");
                return;
            }
            for (Map.Entry<?, ?> e : d.entrySet()) {
                String p = path.isEmpty() ? e.getKey().toString() : path + "." + e.getKey();
                if (!c.containsKey(e.getKey())) out.add(p + " missing");
                else differences(p, e.getValue(), c.get(e.getKey()), out);
            }
        } else if (desired instanceof List<?> d) {
            if (!(current instanceof List<?> c) || c.size() != d.size()) {
                out.add(path + " differs");
                return;
            }
            for (int i = 0; i < d.size(); i++) differences(path + "[" + i + "]", d.get(i), c.get(i), out);
        } else if (!Objects.equals(String.valueOf(desired), String.valueOf(current))) {
            out.add(path + ": " + current + " instead of " + desired);
        }
    }
}
