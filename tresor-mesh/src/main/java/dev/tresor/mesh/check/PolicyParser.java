package dev.tresor.mesh.check;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads policy objects into {@link PolicySet}, refusing every field it does not model. The
 * allow-lists of keys below are the whole model: anything else is an {@link UnsupportedPolicyException}.
 */
public final class PolicyParser {

    /** Kinds that do not change reachability in the model: accepted and ignored. */
    private static final Set<String> IGNORED_KINDS = Set.of("Namespace", "Sidecar", "ServiceMeshControlPlane", "ServiceMeshMemberRoll");

    /** One parsed YAML document and where it came from (file name and document number), for messages. */
    public record Sourced(String source, Map<String, Object> body) {}

    public PolicySet parse(List<Sourced> objects, String namespace) {
        List<PolicySet.NetPol> netpols = new ArrayList<>();
        List<PolicySet.AuthzPolicy> authz = new ArrayList<>();
        List<PolicySet.PeerAuth> peer = new ArrayList<>();
        List<PolicySet.FirewallRule> firewall = new ArrayList<>();
        boolean hasFirewall = false;
        for (Sourced o : objects) {
            String kind = text(o.body().get("kind"));
            Map<String, Object> metadata = map(o.body().get("metadata"), o.source(), "metadata");
            String name = text(metadata.get("name"));
            String where = o.source() + ": " + kind + " " + name;
            if (kind == null || name == null) {
                throw new UnsupportedPolicyException(o.source(), "kind/metadata.name", "not a Kubernetes object");
            }
            if (IGNORED_KINDS.contains(kind)) {
                continue;
            }
            String ns = text(metadata.get("namespace"));
            if (!namespace.equals(ns)) {
                throw new UnsupportedPolicyException(where, "metadata.namespace",
                        "namespace " + ns + ": only policies of the topology's namespace " + namespace + " are modelled (mesh-wide root-namespace policies are not)");
            }
            Map<String, Object> spec = o.body().get("spec") == null ? Map.of() : map(o.body().get("spec"), where, "spec");
            switch (kind) {
                case "NetworkPolicy" -> netpols.add(netpol(where, name, spec));
                case "AuthorizationPolicy" -> authz.add(authz(where, name, spec));
                case "PeerAuthentication" -> peer.add(peerAuth(where, name, spec));
                case "EgressFirewall" -> {
                    if (hasFirewall) throw new UnsupportedPolicyException(where, "metadata.name", "a second EgressFirewall in the namespace");
                    if (!"default".equals(name)) throw new UnsupportedPolicyException(where, "metadata.name", "OVN-Kubernetes only enforces the EgressFirewall named default");
                    hasFirewall = true;
                    firewall.addAll(firewall(where, spec));
                }
                default -> throw new UnsupportedPolicyException(where, "kind", "kind " + kind);
            }
        }
        return new PolicySet(netpols, authz, peer, firewall, hasFirewall);
    }

    // ---- NetworkPolicy (networking.k8s.io/v1) ----

    private PolicySet.NetPol netpol(String where, String name, Map<String, Object> spec) {
        only(where, "spec", spec, "podSelector", "policyTypes", "ingress", "egress");
        if (!spec.containsKey("podSelector")) {
            throw new UnsupportedPolicyException(where, "spec.podSelector", "missing (required by the API)");
        }
        Labels selector = selector(where, "spec.podSelector", spec.get("podSelector"));
        List<PolicySet.NetRule> ingress = rules(where, "spec.ingress", spec.get("ingress"), "from");
        List<PolicySet.NetRule> egress = rules(where, "spec.egress", spec.get("egress"), "to");
        boolean isolatesIngress, isolatesEgress;
        if (spec.get("policyTypes") == null) {
            // The API's default: Ingress always, Egress when the policy has egress rules.
            isolatesIngress = true;
            isolatesEgress = spec.get("egress") != null;
        } else {
            List<Object> types = list(spec.get("policyTypes"), where, "spec.policyTypes");
            isolatesIngress = types.contains("Ingress");
            isolatesEgress = types.contains("Egress");
            for (Object t : types) {
                if (!"Ingress".equals(t) && !"Egress".equals(t)) throw new UnsupportedPolicyException(where, "spec.policyTypes", "unknown type " + t);
            }
        }
        return new PolicySet.NetPol(name, selector, isolatesIngress, isolatesEgress, ingress, egress);
    }

    private List<PolicySet.NetRule> rules(String where, String field, Object value, String peersKey) {
        List<PolicySet.NetRule> rules = new ArrayList<>();
        if (value == null) return rules;
        List<Object> items = list(value, where, field);
        for (int i = 0; i < items.size(); i++) {
            String f = field + "[" + i + "]";
            Map<String, Object> rule = map(items.get(i), where, f);
            only(where, f, rule, peersKey, "ports");
            List<PolicySet.Peer> peers = new ArrayList<>();
            if (rule.get(peersKey) != null) {
                List<Object> peerItems = list(rule.get(peersKey), where, f + "." + peersKey);
                for (int j = 0; j < peerItems.size(); j++) {
                    peers.add(peer(where, f + "." + peersKey + "[" + j + "]", map(peerItems.get(j), where, f)));
                }
            }
            List<PolicySet.NetPort> ports = new ArrayList<>();
            if (rule.get("ports") != null) {
                List<Object> portItems = list(rule.get("ports"), where, f + ".ports");
                for (int j = 0; j < portItems.size(); j++) {
                    ports.add(netPort(where, f + ".ports[" + j + "]", map(portItems.get(j), where, f + ".ports")));
                }
            }
            rules.add(new PolicySet.NetRule(peers, ports));
        }
        return rules;
    }

    private PolicySet.Peer peer(String where, String field, Map<String, Object> peer) {
        only(where, field, peer, "podSelector", "namespaceSelector", "ipBlock");
        if (peer.get("ipBlock") != null) {
            if (peer.size() > 1) throw new UnsupportedPolicyException(where, field, "ipBlock together with a selector (invalid in the API)");
            Map<String, Object> block = map(peer.get("ipBlock"), where, field + ".ipBlock");
            only(where, field + ".ipBlock", block, "cidr");
            String cidr = text(block.get("cidr"));
            try {
                Cidrs.parse(cidr);
            } catch (RuntimeException e) {
                throw new UnsupportedPolicyException(where, field + ".ipBlock.cidr", "'" + cidr + "' (only IPv4 CIDRs are modelled)");
            }
            return new PolicySet.Peer(null, null, cidr);
        }
        if (peer.isEmpty()) throw new UnsupportedPolicyException(where, field, "an empty peer (invalid in the API)");
        Labels pods = peer.containsKey("podSelector") ? selector(where, field + ".podSelector", peer.get("podSelector")) : null;
        Labels namespaces = peer.containsKey("namespaceSelector") ? selector(where, field + ".namespaceSelector", peer.get("namespaceSelector")) : null;
        return new PolicySet.Peer(pods, namespaces, null);
    }

    private PolicySet.NetPort netPort(String where, String field, Map<String, Object> port) {
        only(where, field, port, "port", "protocol");
        String protocol = port.get("protocol") == null ? "TCP" : text(port.get("protocol"));
        if (!Set.of("TCP", "UDP", "SCTP").contains(protocol)) throw new UnsupportedPolicyException(where, field + ".protocol", "protocol " + protocol);
        Object number = port.get("port");
        if (number == null) return new PolicySet.NetPort(null, protocol);
        if (!(number instanceof Integer n)) {
            throw new UnsupportedPolicyException(where, field + ".port", "named port '" + number + "' (the port name is resolved per pod; give the number)");
        }
        return new PolicySet.NetPort(n, protocol);
    }

    private Labels selector(String where, String field, Object value) {
        Map<String, Object> selector = value == null ? Map.of() : map(value, where, field);
        only(where, field, selector, "matchLabels");
        Map<String, String> labels = new LinkedHashMap<>();
        if (selector.get("matchLabels") != null) {
            map(selector.get("matchLabels"), where, field + ".matchLabels").forEach((k, v) -> labels.put(k, text(v)));
        }
        return new Labels(labels);
    }

    // ---- Istio AuthorizationPolicy and PeerAuthentication (security.istio.io) ----

    private PolicySet.AuthzPolicy authz(String where, String name, Map<String, Object> spec) {
        only(where, "spec", spec, "selector", "action", "rules");
        Labels selector = null;
        if (spec.get("selector") != null) selector = selector(where, "spec.selector", spec.get("selector"));
        String action = spec.get("action") == null ? "ALLOW" : text(spec.get("action"));
        if (!action.equals("ALLOW") && !action.equals("DENY")) {
            throw new UnsupportedPolicyException(where, "spec.action", "action " + action + " (only ALLOW and DENY are modelled)");
        }
        List<PolicySet.AuthzRule> rules = new ArrayList<>();
        if (spec.get("rules") != null) {
            List<Object> items = list(spec.get("rules"), where, "spec.rules");
            for (int i = 0; i < items.size(); i++) {
                String f = "spec.rules[" + i + "]";
                Map<String, Object> rule = map(items.get(i), where, f);
                only(where, f, rule, "from", "to");
                List<PolicySet.Source> sources = null;
                if (rule.get("from") != null) {
                    sources = new ArrayList<>();
                    List<Object> from = list(rule.get("from"), where, f + ".from");
                    for (int j = 0; j < from.size(); j++) {
                        String ff = f + ".from[" + j + "]";
                        Map<String, Object> entry = map(from.get(j), where, ff);
                        only(where, ff, entry, "source");
                        Map<String, Object> source = map(entry.get("source"), where, ff + ".source");
                        only(where, ff + ".source", source, "principals", "namespaces");
                        sources.add(new PolicySet.Source(strings(source.get("principals"), where, ff + ".source.principals"),
                                strings(source.get("namespaces"), where, ff + ".source.namespaces")));
                    }
                }
                List<PolicySet.Operation> operations = null;
                if (rule.get("to") != null) {
                    operations = new ArrayList<>();
                    List<Object> to = list(rule.get("to"), where, f + ".to");
                    for (int j = 0; j < to.size(); j++) {
                        String ft = f + ".to[" + j + "]";
                        Map<String, Object> entry = map(to.get(j), where, ft);
                        only(where, ft, entry, "operation");
                        Map<String, Object> operation = map(entry.get("operation"), where, ft + ".operation");
                        only(where, ft + ".operation", operation, "ports");
                        operations.add(new PolicySet.Operation(strings(operation.get("ports"), where, ft + ".operation.ports")));
                    }
                }
                rules.add(new PolicySet.AuthzRule(sources, operations));
            }
        }
        return new PolicySet.AuthzPolicy(name, selector, action.equals("DENY"), rules);
    }

    private PolicySet.PeerAuth peerAuth(String where, String name, Map<String, Object> spec) {
        only(where, "spec", spec, "mtls");
        String mode = "UNSET";
        if (spec.get("mtls") != null) {
            Map<String, Object> mtls = map(spec.get("mtls"), where, "spec.mtls");
            only(where, "spec.mtls", mtls, "mode");
            if (mtls.get("mode") != null) mode = text(mtls.get("mode"));
        }
        return new PolicySet.PeerAuth(name, mode);
    }

    // ---- EgressFirewall (k8s.ovn.org/v1) ----

    private List<PolicySet.FirewallRule> firewall(String where, Map<String, Object> spec) {
        only(where, "spec", spec, "egress");
        List<PolicySet.FirewallRule> rules = new ArrayList<>();
        List<Object> items = spec.get("egress") == null ? List.of() : list(spec.get("egress"), where, "spec.egress");
        for (int i = 0; i < items.size(); i++) {
            String f = "spec.egress[" + i + "]";
            Map<String, Object> rule = map(items.get(i), where, f);
            only(where, f, rule, "type", "to", "ports");
            String type = text(rule.get("type"));
            if (!"Allow".equals(type) && !"Deny".equals(type)) throw new UnsupportedPolicyException(where, f + ".type", "type " + type);
            Map<String, Object> to = map(rule.get("to"), where, f + ".to");
            only(where, f + ".to", to, "cidrSelector", "dnsName");
            String cidr = text(to.get("cidrSelector"));
            String dns = text(to.get("dnsName"));
            if ((cidr == null) == (dns == null)) throw new UnsupportedPolicyException(where, f + ".to", "needs exactly one of cidrSelector and dnsName");
            if (cidr != null) {
                try {
                    Cidrs.parse(cidr);
                } catch (RuntimeException e) {
                    throw new UnsupportedPolicyException(where, f + ".to.cidrSelector", "'" + cidr + "' (only IPv4 CIDRs are modelled)");
                }
            }
            List<PolicySet.NetPort> ports = new ArrayList<>();
            if (rule.get("ports") != null) {
                List<Object> portItems = list(rule.get("ports"), where, f + ".ports");
                for (int j = 0; j < portItems.size(); j++) {
                    ports.add(netPort(where, f + ".ports[" + j + "]", map(portItems.get(j), where, f + ".ports")));
                }
            }
            rules.add(new PolicySet.FirewallRule("Allow".equals(type), cidr, dns == null ? null : dns.toLowerCase(java.util.Locale.ROOT), ports));
        }
        return rules;
    }

    // ---- helpers ----

    private static void only(String where, String field, Map<String, Object> map, String... allowed) {
        Set<String> known = Set.of(allowed);
        for (String key : map.keySet()) {
            if (!known.contains(key)) {
                throw new UnsupportedPolicyException(where, field + "." + key, "field '" + key + "'");
            }
        }
    }

    private static List<String> strings(Object value, String where, String field) {
        if (value == null) return null;
        return list(value, where, field).stream().map(PolicyParser::text).toList();
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String where, String field) {
        if (value instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new UnsupportedPolicyException(where, field, "expected a mapping, found " + value);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value, String where, String field) {
        if (value instanceof List<?> l) return (List<Object>) l;
        throw new UnsupportedPolicyException(where, field, "expected a list, found " + value);
    }
}
