package dev.tresor.mesh.check;

import dev.tresor.mesh.topology.Port;

/**
 * OVN-Kubernetes EgressFirewall semantics: rules are tried top down, the first whose destination
 * and ports match decides; no match (or no EgressFirewall) allows. It applies to the whole
 * namespace and only to destinations outside the cluster.
 */
public final class EgressFirewallEvaluator {

    private final PolicySet policies;

    public EgressFirewallEvaluator(PolicySet policies) {
        this.policies = policies;
    }

    public boolean allows(Endpoint destination, Port port) {
        for (PolicySet.FirewallRule rule : policies.egressFirewall()) {
            boolean portOk = rule.ports().isEmpty() || rule.ports().stream().anyMatch(p -> p.matches(port));
            if (portOk && destinationMatches(rule, destination)) {
                return rule.allow();
            }
        }
        return true;
    }

    private static boolean destinationMatches(PolicySet.FirewallRule rule, Endpoint destination) {
        if (rule.cidr() != null) {
            return Cidrs.covers(rule.cidr(), destination);
        }
        if (destination.dnsName() == null) {
            // A dnsName rule matches the addresses the name resolves to; whether a CIDR destination is one of them is unknown.
            return false;
        }
        String name = destination.dnsName().toLowerCase(java.util.Locale.ROOT);
        if (rule.dnsName().startsWith("*.")) {
            return name.endsWith(rule.dnsName().substring(1));
        }
        return rule.dnsName().equals(name);
    }
}
