package dev.tresor.mesh.check;

import java.util.Map;

/**
 * Something that sends or receives traffic in the model.
 *
 * @param name            what the report calls it
 * @param namespace       its namespace (null: outside the cluster)
 * @param namespaceLabels its namespace's labels
 * @param podLabels       its pod's labels
 * @param principal       its Istio principal (null: not in the mesh or outside the cluster)
 * @param dnsName         for a destination outside the cluster: its DNS name, or null
 * @param cidr            for a destination outside the cluster: its CIDR, or null
 */
public record Endpoint(String name, String namespace, Map<String, String> namespaceLabels, Map<String, String> podLabels,
                       String principal, String dnsName, String cidr) {

    public static Endpoint pod(String name, String namespace, Map<String, String> namespaceLabels,
                               Map<String, String> podLabels, String principal) {
        return new Endpoint(name, namespace, Map.copyOf(namespaceLabels), Map.copyOf(podLabels), principal, null, null);
    }

    public static Endpoint external(String name, String dnsName, String cidr) {
        return new Endpoint(name, null, Map.of(), Map.of(), null, dnsName, cidr);
    }

    public boolean inCluster() {
        return namespace != null;
    }
}
