package dev.tresor.mesh.check;

import dev.tresor.mesh.topology.Port;
import java.util.List;

/**
 * Kubernetes NetworkPolicy semantics for one namespace. A connection is allowed when the source
 * side lets it out and the destination side lets it in. A pod selected by any policy of a
 * direction is isolated for that direction and then reachable only through a rule of one of
 * those policies (rules add up; nothing denies). Pods outside the namespace are not isolated
 * in the model, since only this namespace's policies are read.
 */
public final class NetworkPolicyEvaluator {

    private final PolicySet policies;
    private final String namespace;

    public NetworkPolicyEvaluator(PolicySet policies, String namespace) {
        this.policies = policies;
        this.namespace = namespace;
    }

    public boolean allows(Endpoint source, Endpoint destination, Port port) {
        return egressAllows(source, destination, port) && ingressAllows(destination, source, port);
    }

    boolean egressAllows(Endpoint source, Endpoint destination, Port port) {
        if (!namespace.equals(source.namespace())) return true;
        List<PolicySet.NetPol> selecting = policies.networkPolicies().stream()
                .filter(p -> p.isolatesEgress() && p.podSelector().matches(source.podLabels())).toList();
        if (selecting.isEmpty()) return true;
        return selecting.stream().flatMap(p -> p.egress().stream()).anyMatch(rule -> ruleMatches(rule, destination, port));
    }

    boolean ingressAllows(Endpoint destination, Endpoint source, Port port) {
        if (!namespace.equals(destination.namespace())) return true;
        List<PolicySet.NetPol> selecting = policies.networkPolicies().stream()
                .filter(p -> p.isolatesIngress() && p.podSelector().matches(destination.podLabels())).toList();
        if (selecting.isEmpty()) return true;
        return selecting.stream().flatMap(p -> p.ingress().stream()).anyMatch(rule -> ruleMatches(rule, source, port));
    }

    private boolean ruleMatches(PolicySet.NetRule rule, Endpoint peer, Port port) {
        boolean portOk = rule.ports().isEmpty() || rule.ports().stream().anyMatch(p -> p.matches(port));
        boolean peerOk = rule.peers().isEmpty() || rule.peers().stream().anyMatch(p -> peerMatches(p, peer));
        return portOk && peerOk;
    }

    private boolean peerMatches(PolicySet.Peer peer, Endpoint endpoint) {
        if (peer.cidr() != null) {
            // Whether an ipBlock matches pod IPs is up to the network plugin; assume it does (the worst case).
            return endpoint.inCluster() || Cidrs.covers(peer.cidr(), endpoint);
        }
        if (!endpoint.inCluster()) return false;
        boolean namespaceOk = peer.namespaceSelector() == null
                ? namespace.equals(endpoint.namespace())
                : peer.namespaceSelector().matches(endpoint.namespaceLabels());
        boolean podOk = peer.podSelector() == null || peer.podSelector().matches(endpoint.podLabels());
        return namespaceOk && podOk;
    }
}
