package dev.tresor.mesh.topology;

/** Which control plane the namespace joins; OpenShift Service Mesh 2.x also needs an SMCP and an SMMR. */
public enum MeshFlavour {
    ISTIO("istio"),
    OPENSHIFT_SERVICE_MESH("openshift-service-mesh");

    private final String yamlName;

    MeshFlavour(String yamlName) {
        this.yamlName = yamlName;
    }

    public String yamlName() {
        return yamlName;
    }
}
