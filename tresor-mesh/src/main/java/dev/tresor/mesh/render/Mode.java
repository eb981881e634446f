package dev.tresor.mesh.render;

/** What {@code tresor mesh render} produces (the modes of the OpenEMR project's deploy-mesh.sh). */
public enum Mode {
    /** Mesh policies: PeerAuthentication, AuthorizationPolicies, Sidecars, NetworkPolicies, EgressFirewall. */
    MESH,
    /** {@link #MESH} plus the Namespace and, on OpenShift Service Mesh, its ServiceMeshControlPlane and MemberRoll. */
    FULL,
    /** NetworkPolicies only: the default-deny namespace without a mesh. */
    NETPOL_ONLY,
    /** The EgressFirewall only. */
    EGRESS_ONLY
}
