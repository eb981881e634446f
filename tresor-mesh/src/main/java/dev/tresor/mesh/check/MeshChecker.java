package dev.tresor.mesh.check;

import dev.tresor.mesh.render.Renderer;
import dev.tresor.mesh.topology.Edge;
import dev.tresor.mesh.topology.Egress;
import dev.tresor.mesh.topology.Ingress;
import dev.tresor.mesh.topology.Port;
import dev.tresor.mesh.topology.Protocol;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Proves (or refutes) that a set of policies allows exactly the topology's connections. Every
 * source (workloads, ingress gateways and two probes: a new unlabelled pod in the namespace and
 * a pod of another namespace) is tried against every destination on every port that either the
 * destination serves or some policy names; each layer is evaluated separately, and a connection
 * passes only if every layer's verdict equals the topology's intent. So an extra rule in one
 * layer is caught even when the other layer still blocks it.
 */
public final class MeshChecker {

    static final String PROBE_NAMESPACE = "tresor-probe";
    /** TEST-NET-3 (RFC 5737): an address no allow-list should contain. */
    static final String PROBE_ADDRESS = "203.0.113.7/32";

    public CheckReport check(Topology t, PolicySet policies, Set<Layer> layers) {
        NetworkPolicyEvaluator netpol = new NetworkPolicyEvaluator(policies, t.namespace());
        AuthorizationEvaluator authz = new AuthorizationEvaluator(policies);
        EgressFirewallEvaluator firewall = new EgressFirewallEvaluator(policies);
        boolean np = layers.contains(Layer.NETWORK_POLICY);
        boolean ap = layers.contains(Layer.AUTHORIZATION);
        boolean ef = layers.contains(Layer.EGRESS_FIREWALL);
        List<String> global = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<String, String> nsLabels = Map.of(Renderer.NAMESPACE_NAME_LABEL, t.namespace());

        if (ap) {
            List<PolicySet.PeerAuth> modes = policies.peerAuthentications();
            if (modes.stream().noneMatch(p -> p.mode().equals("STRICT"))) {
                global.add("no PeerAuthentication with mtls.mode STRICT: plaintext peers present no principal, so the AuthorizationPolicies' principals prove nothing");
            }
            modes.stream().filter(p -> !p.mode().equals("STRICT"))
                    .forEach(p -> global.add("PeerAuthentication " + p.name() + " has mode " + p.mode() + " (must be STRICT)"));
        }

        // ---- in-namespace pairs ----
        List<Endpoint> sources = new ArrayList<>();
        for (Workload w : t.workloads()) {
            sources.add(Endpoint.pod(w.name(), t.namespace(), nsLabels, w.labels(), t.principal(w)));
        }
        for (Ingress i : t.ingress()) {
            sources.add(Endpoint.pod("ingress:" + i.name(), i.namespace(), i.namespaceLabels(), Map.of(), t.principal(i.namespace(), i.serviceAccount())));
        }
        Endpoint newPod = Endpoint.pod("probe:new-pod", t.namespace(), nsLabels, Map.of(), t.principal(t.namespace(), "default"));
        sources.add(newPod);
        sources.add(Endpoint.pod("probe:other-namespace", PROBE_NAMESPACE, Map.of(Renderer.NAMESPACE_NAME_LABEL, PROBE_NAMESPACE),
                Map.of(), t.principal(PROBE_NAMESPACE, "default")));
        List<Endpoint> destinations = new ArrayList<>();
        for (Workload w : t.workloads()) {
            destinations.add(Endpoint.pod(w.name(), t.namespace(), nsLabels, w.labels(), t.principal(w)));
        }
        destinations.add(newPod);
        TreeSet<Port> named = portsNamedByPolicies(policies);
        List<CheckReport.Row> pairs = new ArrayList<>();
        if (np || ap) {
            for (Endpoint s : sources) {
                for (Endpoint d : destinations) {
                    if (s.equals(d)) continue;
                    TreeSet<Port> ports = new TreeSet<>(named);
                    t.workload(d.name()).ifPresent(w -> ports.addAll(w.ports()));
                    for (Port port : ports) {
                        boolean intended = intended(t, s.name(), d.name(), port);
                        Boolean n = np ? netpol.allows(s, d, port) : null;
                        Boolean a = ap ? authz.allows(s, d.podLabels(), port) : null;
                        pairs.add(new CheckReport.Row(s.name(), d.name(), port, intended, n, a, problem(intended, n, a,
                                Layer.NETWORK_POLICY, Layer.AUTHORIZATION)));
                    }
                }
            }
        }

        // ---- leaving the namespace ----
        List<CheckReport.Row> egress = new ArrayList<>();
        if (np) {
            Endpoint dns = Endpoint.pod("cluster-dns", t.clusterDns().namespace(),
                    Map.of(Renderer.NAMESPACE_NAME_LABEL, t.clusterDns().namespace()), t.clusterDns().podLabels(), null);
            Endpoint istiod = Endpoint.pod("istiod", t.mesh().controlPlaneNamespace(),
                    Map.of(Renderer.NAMESPACE_NAME_LABEL, t.mesh().controlPlaneNamespace()), Map.of("app", "istiod"), null);
            for (Workload w : t.workloads()) {
                Endpoint s = Endpoint.pod(w.name(), t.namespace(), nsLabels, w.labels(), t.principal(w));
                for (Port port : t.clusterDns().ports()) {
                    boolean n = netpol.allows(s, dns, port);
                    egress.add(new CheckReport.Row(w.name(), "cluster-dns", port, true, n, null, problem(true, n, null, Layer.NETWORK_POLICY, null)));
                }
                if (ap) {
                    Port xds = Port.tcp(15012);
                    boolean n = netpol.allows(s, istiod, xds);
                    egress.add(new CheckReport.Row(w.name(), "istiod", xds, true, n, null, problem(true, n, null, Layer.NETWORK_POLICY, null)));
                }
            }
        }
        List<Endpoint> external = new ArrayList<>();
        TreeSet<Port> egressPorts = new TreeSet<>(List.of(Port.tcp(443)));
        for (Egress e : t.egress()) {
            external.add(Endpoint.external(e.name() + " (" + e.destination() + (e.enabled() ? "" : ", disabled") + ")", e.dnsName(), e.cidr()));
            egressPorts.addAll(e.ports());
        }
        external.add(Endpoint.external("probe:unlisted-address (" + PROBE_ADDRESS + ")", null, PROBE_ADDRESS));
        external.add(Endpoint.external("probe:unlisted-name (unlisted.invalid)", "unlisted.invalid", null));
        if (np) {
            if (!ef) {
                notes.add("without the EgressFirewall, NetworkPolicy cannot tell DNS names apart: destinations given by name, "
                        + "and unlisted addresses on the ports opened for them, are not checked");
            }
            for (Workload w : t.workloads()) {
                Endpoint s = Endpoint.pod(w.name(), t.namespace(), nsLabels, w.labels(), t.principal(w));
                for (int i = 0; i < external.size(); i++) {
                    Endpoint d = external.get(i);
                    Egress entry = i < t.egress().size() ? t.egress().get(i) : null;
                    if (!ef && (d.dnsName() != null || entry == null)) continue;
                    for (Port port : entry != null ? new TreeSet<>(entry.ports()) : egressPorts) {
                        boolean intended = entry != null && entry.enabled() && entry.from().contains(w.name());
                        boolean n = netpol.allows(s, d, port);
                        Boolean f = ef ? firewall.allows(d, port) : null;
                        egress.add(new CheckReport.Row(w.name(), d.name(), port, intended, n, f, egressProblem(intended, n, f)));
                    }
                }
            }
        } else if (ef) {
            // The EgressFirewall alone is namespace-wide: the intent is whether anything in the namespace may go there.
            for (int i = 0; i < external.size(); i++) {
                Endpoint d = external.get(i);
                Egress entry = i < t.egress().size() ? t.egress().get(i) : null;
                for (Port port : entry != null ? new TreeSet<>(entry.ports()) : egressPorts) {
                    boolean intended = entry != null && entry.enabled();
                    boolean f = firewall.allows(d, port);
                    egress.add(new CheckReport.Row("(namespace)", d.name(), port, intended, null, f, egressProblem(intended, null, f)));
                }
            }
        }
        return new CheckReport(t.namespace(), layers, pairs, egress, global, notes);
    }

    private static boolean intended(Topology t, String source, String destination, Port port) {
        for (Edge e : t.edges()) {
            if (e.from().equals(source) && e.to().equals(destination) && e.port().equals(port)) return true;
        }
        for (Ingress i : t.ingress()) {
            if (("ingress:" + i.name()).equals(source) && i.to().equals(destination) && i.port().equals(port)) return true;
        }
        return false;
    }

    private static String problem(boolean intended, Boolean first, Boolean second, Layer firstLayer, Layer secondLayer) {
        List<String> blocking = new ArrayList<>();
        List<String> allowing = new ArrayList<>();
        if (first != null) (first ? allowing : blocking).add(firstLayer.label());
        if (second != null) (second ? allowing : blocking).add(secondLayer.label());
        if (intended && !blocking.isEmpty()) {
            return "edge of the topology blocked by " + String.join(" and ", blocking);
        }
        if (!intended && !allowing.isEmpty()) {
            return blocking.isEmpty()
                    ? "allowed by " + String.join(" and ", allowing) + " but not in the topology"
                    : "layers disagree: " + String.join(" and ", allowing) + " allows it, " + String.join(" and ", blocking)
                            + " blocks it; the topology does not name it";
        }
        return null;
    }

    /** Traffic leaves only if both egress layers let it; a namespace-wide firewall allowing more than one workload's NetworkPolicy is expected. */
    private static String egressProblem(boolean intended, Boolean netpol, Boolean firewall) {
        boolean allowed = !Boolean.FALSE.equals(netpol) && !Boolean.FALSE.equals(firewall);
        if (intended && !allowed) {
            List<String> blocking = new ArrayList<>();
            if (Boolean.FALSE.equals(netpol)) blocking.add(Layer.NETWORK_POLICY.label());
            if (Boolean.FALSE.equals(firewall)) blocking.add(Layer.EGRESS_FIREWALL.label());
            return "egress of the topology blocked by " + String.join(" and ", blocking);
        }
        if (!intended && allowed) {
            return "allowed but not in the topology";
        }
        return null;
    }

    private static TreeSet<Port> portsNamedByPolicies(PolicySet policies) {
        TreeSet<Port> ports = new TreeSet<>();
        for (PolicySet.NetPol p : policies.networkPolicies()) {
            for (PolicySet.NetRule r : p.ingress()) addPorts(r, ports);
            for (PolicySet.NetRule r : p.egress()) addPorts(r, ports);
        }
        for (PolicySet.AuthzPolicy p : policies.authorizationPolicies()) {
            for (PolicySet.AuthzRule r : p.rules()) {
                if (r.operations() == null) continue;
                for (PolicySet.Operation o : r.operations()) {
                    if (o.ports() == null) continue;
                    for (String port : o.ports()) {
                        try {
                            int n = Integer.parseInt(port);
                            if (n >= 1 && n <= 65535) ports.add(Port.tcp(n));
                        } catch (NumberFormatException e) {
                            throw new UnsupportedPolicyException("AuthorizationPolicy " + p.name(), "operation.ports", "'" + port + "' is not a port number");
                        }
                    }
                }
            }
        }
        // A rule without ports opens every port; one port the topology does not use shows it.
        ports.add(Port.tcp(1));
        return ports;
    }

    private static void addPorts(PolicySet.NetRule rule, TreeSet<Port> ports) {
        for (PolicySet.NetPort p : rule.ports()) {
            if (p.number() != null) ports.add(new Port(p.number(), Protocol.valueOf(p.protocol())));
        }
    }
}
