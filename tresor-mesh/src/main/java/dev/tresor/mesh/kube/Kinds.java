package dev.tresor.mesh.kube;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;
import java.util.Map;

/**
 * The API coordinates of every kind the renderer produces. Given explicitly rather than by API
 * discovery, so a missing CRD (no OVN-Kubernetes, no mesh) is reported per kind instead of
 * failing the whole run.
 */
public final class Kinds {

    private static final Map<String, ResourceDefinitionContext> BY_KIND = Map.of(
            "Namespace", context("", "v1", "Namespace", "namespaces", false),
            "ServiceMeshControlPlane", context("maistra.io", "v2", "ServiceMeshControlPlane", "servicemeshcontrolplanes", true),
            "ServiceMeshMemberRoll", context("maistra.io", "v1", "ServiceMeshMemberRoll", "servicemeshmemberrolls", true),
            "PeerAuthentication", context("security.istio.io", "v1beta1", "PeerAuthentication", "peerauthentications", true),
            "AuthorizationPolicy", context("security.istio.io", "v1beta1", "AuthorizationPolicy", "authorizationpolicies", true),
            "Sidecar", context("networking.istio.io", "v1beta1", "Sidecar", "sidecars", true),
            "NetworkPolicy", context("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true),
            "EgressFirewall", context("k8s.ovn.org", "v1", "EgressFirewall", "egressfirewalls", true));

    /** Removal order: allow rules go before the baselines that deny, so a half-done cleanup fails closed. */
    static final List<String> CLEANUP_ORDER = List.of("Sidecar", "AuthorizationPolicy", "NetworkPolicy", "EgressFirewall",
            "PeerAuthentication", "ServiceMeshMemberRoll", "ServiceMeshControlPlane");

    private Kinds() {}

    public static ResourceDefinitionContext of(String kind) {
        ResourceDefinitionContext context = BY_KIND.get(kind);
        if (context == null) throw new IllegalArgumentException("kind " + kind + " is not rendered by tresor mesh");
        return context;
    }

    private static ResourceDefinitionContext context(String group, String version, String kind, String plural, boolean namespaced) {
        return new ResourceDefinitionContext.Builder().withGroup(group).withVersion(version).withKind(kind)
                .withPlural(plural).withNamespaced(namespaced).build();
    }
}
