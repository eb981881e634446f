package dev.tresor.mesh.topology;

import java.util.List;
import java.util.SortedMap;

/**
 * One workload of the namespace (a Deployment or StatefulSet and its Service of the same name).
 *
 * @param name           the Service name and the key edges refer to
 * @param serviceAccount its pods' service account: the Istio principal is derived from it
 * @param labels         labels that select its pods and no other workload's
 * @param ports          the pod ports it serves
 */
public record Workload(String name, String serviceAccount, SortedMap<String, String> labels, List<Port> ports) {

    public Workload {
        labels = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(labels));
        ports = List.copyOf(ports);
    }

    public boolean serves(int port) {
        return ports.stream().anyMatch(p -> p.number() == port);
    }

    public Port port(int number) {
        return ports.stream().filter(p -> p.number() == number).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(name + " has no port " + number));
    }
}
