package dev.tresor.mesh.check;

import dev.tresor.mesh.topology.Port;
import java.util.List;

/** The policies of one namespace, reduced to the modelled features (see {@link PolicyParser}). */
public record PolicySet(List<NetPol> networkPolicies, List<AuthzPolicy> authorizationPolicies,
                        List<PeerAuth> peerAuthentications, List<FirewallRule> egressFirewall, boolean hasEgressFirewall) {

    public PolicySet {
        networkPolicies = List.copyOf(networkPolicies);
        authorizationPolicies = List.copyOf(authorizationPolicies);
        peerAuthentications = List.copyOf(peerAuthentications);
        egressFirewall = List.copyOf(egressFirewall);
    }

    /** A NetworkPolicy: the pods it selects and, per direction it isolates, the rules that allow. */
    public record NetPol(String name, Labels podSelector, boolean isolatesIngress, boolean isolatesEgress,
                         List<NetRule> ingress, List<NetRule> egress) {}

    /** One rule: {@code peers} empty means all peers, {@code ports} empty means all ports. */
    public record NetRule(List<Peer> peers, List<NetPort> ports) {}

    /** A peer: pods ({@code namespaceSelector} null: the policy's namespace; {@code podSelector} null: all pods) or an ipBlock. */
    public record Peer(Labels podSelector, Labels namespaceSelector, String cidr) {}

    /** A port match; {@code number} null matches every port of the protocol. */
    public record NetPort(Integer number, String protocol) {
        boolean matches(Port port) {
            return protocol.equals(port.protocol().name()) && (number == null || number == port.number());
        }
    }

    /** An Istio AuthorizationPolicy; {@code selector} null applies to every workload of the namespace. */
    public record AuthzPolicy(String name, Labels selector, boolean deny, List<AuthzRule> rules) {}

    /** {@code sources}/{@code operations} null: the rule does not restrict by source/operation. */
    public record AuthzRule(List<Source> sources, List<Operation> operations) {}

    /** Fields null when absent; each present field must match. */
    public record Source(List<String> principals, List<String> namespaces) {}

    public record Operation(List<String> ports) {}

    /** A namespace-wide PeerAuthentication's mode (STRICT, PERMISSIVE, DISABLE, UNSET). */
    public record PeerAuth(String name, String mode) {}

    /** An EgressFirewall rule: exactly one of {@code cidr} and {@code dnsName}; {@code ports} empty: all ports. */
    public record FirewallRule(boolean allow, String cidr, String dnsName, List<NetPort> ports) {}
}
