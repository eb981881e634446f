package dev.tresor.mesh.topology;

/**
 * The mesh the namespace belongs to.
 *
 * @param flavour                istio or openshift-service-mesh
 * @param controlPlaneNamespace  where istiod (and, for OpenShift, the SMCP and SMMR) live
 * @param controlPlaneVersion    the SMCP {@code spec.version} (OpenShift only), e.g. v2.6
 */
public record Mesh(MeshFlavour flavour, String controlPlaneNamespace, String controlPlaneVersion) {}
