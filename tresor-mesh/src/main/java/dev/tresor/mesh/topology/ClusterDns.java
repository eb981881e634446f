package dev.tresor.mesh.topology;

import java.util.List;
import java.util.SortedMap;

/**
 * The cluster DNS pods every workload may query (a default-deny egress policy would otherwise
 * break name resolution). Ports are the DNS pods' own ports: NetworkPolicy matches after the
 * Service's port translation, so OpenShift's DNS needs 5353, not 53.
 */
public record ClusterDns(String namespace, SortedMap<String, String> podLabels, List<Port> ports) {

    public ClusterDns {
        podLabels = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(podLabels));
        ports = List.copyOf(ports);
    }
}
