package dev.tresor.mesh.topology;

import java.util.SortedMap;

/**
 * Traffic entering the namespace from a router or ingress gateway.
 *
 * @param name            a label for the entry (used in object names)
 * @param namespace       the gateway's namespace
 * @param serviceAccount  the gateway's service account (its Istio principal)
 * @param namespaceLabels labels of the gateway's namespace, for the NetworkPolicy namespaceSelector
 * @param to              the workload it reaches
 * @param port            the port of {@code to}
 */
public record Ingress(String name, String namespace, String serviceAccount, SortedMap<String, String> namespaceLabels,
                      String to, Port port) {

    public Ingress {
        namespaceLabels = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(namespaceLabels));
    }
}
