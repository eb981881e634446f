package dev.tresor.mesh.topology;

import java.util.List;
import java.util.Optional;

/**
 * Who talks to whom in one namespace. Built only by {@link TopologyLoader} (or tests), which
 * validate it: names are unique, every edge names known workloads and served ports, and label
 * sets of different workloads do not select each other.
 */
public record Topology(String namespace, String trustDomain, Mesh mesh, ClusterDns clusterDns,
                       List<Workload> workloads, List<Ingress> ingress, List<Edge> edges, List<Egress> egress) {

    public Topology {
        workloads = List.copyOf(workloads);
        ingress = List.copyOf(ingress);
        edges = List.copyOf(edges);
        egress = List.copyOf(egress);
    }

    public Optional<Workload> workload(String name) {
        return workloads.stream().filter(w -> w.name().equals(name)).findFirst();
    }

    public Workload requireWorkload(String name) {
        return workload(name).orElseThrow(() -> new IllegalArgumentException("no workload " + name));
    }

    /** The SPIFFE-style principal Istio sees for a service account, without the {@code spiffe://} prefix. */
    public String principal(String ns, String serviceAccount) {
        return trustDomain + "/ns/" + ns + "/sa/" + serviceAccount;
    }

    public String principal(Workload workload) {
        return principal(namespace, workload.serviceAccount());
    }

    public List<Egress> enabledEgress() {
        return egress.stream().filter(Egress::enabled).toList();
    }
}
