package dev.tresor.mesh.topology;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * Reads and validates a topology file. All problems are collected and reported together, each
 * with the field path and the YAML line; unknown fields are errors (a misspelt key must not
 * silently drop an edge).
 */
public final class TopologyLoader {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*");
    /** A public DNS name for egress: at least two labels, optional leading wildcard label. */
    private static final Pattern EGRESS_DNS = Pattern.compile(
            "(?=.{1,253}$)(\\*\\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern CIDR = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})");

    private static final ClusterDns KUBE_DNS = new ClusterDns("kube-system", new TreeMap<>(Map.of("k8s-app", "kube-dns")),
            List.of(new Port(53, Protocol.UDP), new Port(53, Protocol.TCP)));

    private final YAMLFactory yaml = YAMLFactory.builder().build();

    public Topology load(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read topology " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code source} names the text in messages (a file name). */
    public Topology parse(String text, String source) {
        YamlNode root;
        try (YAMLParser parser = yaml.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new TopologyException(source, List.of(new TopologyException.Problem("(file)", 0, "empty file")));
            }
            root = read(parser, source);
            if (parser.nextToken() != null) {
                throw new TopologyException(source, List.of(new TopologyException.Problem("(file)", line(parser),
                        "more than one YAML document; a topology is one document")));
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            throw new TopologyException(source, List.of(new TopologyException.Problem("(file)", line,
                    "not valid YAML: " + e.getOriginalMessage())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Reader reader = new Reader();
        Topology topology = reader.topology(root);
        if (!reader.problems.isEmpty()) {
            throw new TopologyException(source, reader.problems);
        }
        return topology;
    }

    private static int line(JsonParser parser) {
        return parser.currentTokenLocation().getLineNr();
    }

    /** Builds the located tree from the parser, positioned on the value's first token. */
    private static YamlNode read(YAMLParser parser, String source) throws IOException {
        int line = line(parser);
        JsonToken token = parser.currentToken();
        switch (token) {
            case START_OBJECT -> {
                Map<String, YamlNode> entries = new LinkedHashMap<>();
                Map<String, Integer> keyLines = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    int keyLine = line(parser);
                    if (entries.containsKey(key)) {
                        throw new TopologyException(source, List.of(new TopologyException.Problem(key, keyLine,
                                "duplicate key (first at line " + keyLines.get(key) + ")")));
                    }
                    parser.nextToken();
                    entries.put(key, read(parser, source));
                    keyLines.put(key, keyLine);
                }
                return new YamlNode.Mapping(entries, keyLines, line);
            }
            case START_ARRAY -> {
                List<YamlNode> items = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(parser, source));
                }
                return new YamlNode.Sequence(items, line);
            }
            case VALUE_NULL -> {
                return new YamlNode.Scalar("", true, line);
            }
            default -> {
                return new YamlNode.Scalar(parser.getText(), false, line);
            }
        }
    }

    /** One pass over the tree; problems accumulate instead of stopping at the first one. */
    private static final class Reader {
        private final List<TopologyException.Problem> problems = new ArrayList<>();

        private void problem(String field, YamlNode at, String message) {
            problems.add(new TopologyException.Problem(field, at == null ? 0 : at.line(), message));
        }

        private void problem(String field, int line, String message) {
            problems.add(new TopologyException.Problem(field, line, message));
        }

        Topology topology(YamlNode root) {
            YamlNode.Mapping top = mapping("(top level)", root);
            if (top == null) {
                return null;
            }
            only("", top, "namespace", "trustDomain", "mesh", "clusterDns", "workloads", "ingress", "edges", "egress");
            String namespace = string("namespace", top, true);
            if (namespace != null && !DNS_LABEL.matcher(namespace).matches()) {
                problem("namespace", top.entries().get("namespace"), "'" + namespace + "' is not a valid namespace name (DNS label: lower-case letters, digits, '-', at most 63)");
            }
            String trustDomain = string("trustDomain", top, false);
            if (trustDomain == null) {
                trustDomain = "cluster.local";
            } else if (!DNS_SUBDOMAIN.matcher(trustDomain).matches()) {
                problem("trustDomain", top.entries().get("trustDomain"), "'" + trustDomain + "' is not a valid DNS name");
            }
            Mesh mesh = mesh(top.entries().get("mesh"));
            ClusterDns dns = top.entries().containsKey("clusterDns") ? clusterDns(top.entries().get("clusterDns")) : KUBE_DNS;

            List<Workload> workloads = list("workloads", top, true, this::workload);
            Map<String, Workload> byName = new LinkedHashMap<>();
            YamlNode.Sequence workloadNodes = top.entries().get("workloads") instanceof YamlNode.Sequence s ? s : null;
            for (int i = 0; i < workloads.size(); i++) {
                Workload w = workloads.get(i);
                if (w == null || w.name() == null) continue;
                if (byName.putIfAbsent(w.name(), w) != null) {
                    problem("workloads[" + i + "].name", workloadNodes.items().get(i), "duplicate workload name '" + w.name() + "'");
                }
            }
            if (top.entries().containsKey("workloads") && workloads.isEmpty() && problems.isEmpty()) {
                problem("workloads", top.entries().get("workloads"), "no workloads");
            }
            checkSelectorsDisjoint(workloads, workloadNodes);

            List<Ingress> ingress = list("ingress", top, false, (f, n) -> ingress(f, n, byName));
            uniqueNames("ingress", top, ingress.stream().map(i -> i == null ? null : i.name()).toList());
            List<Edge> edges = list("edges", top, true, (f, n) -> edge(f, n, byName));
            if (top.entries().get("edges") instanceof YamlNode.Sequence s) {
                if (s.items().isEmpty()) {
                    problem("edges", s, "no edges: a namespace where nothing talks to anything needs no mesh; name at least one edge");
                }
                Set<Edge> seen = new HashSet<>();
                for (int i = 0; i < edges.size(); i++) {
                    if (edges.get(i) != null && !seen.add(edges.get(i))) {
                        problem("edges[" + i + "]", s.items().get(i), "duplicate edge " + edges.get(i).from() + " -> " + edges.get(i).to() + ":" + edges.get(i).port().number());
                    }
                }
            }
            List<Egress> egress = list("egress", top, false, (f, n) -> egress(f, n, byName));
            uniqueNames("egress", top, egress.stream().map(e -> e == null ? null : e.name()).toList());
            if (problems.isEmpty()) {
                checkEgressEnforceable(egress, (YamlNode.Sequence) top.entries().get("egress"));
            }
            if (!problems.isEmpty()) {
                return null;
            }
            return new Topology(namespace, trustDomain, mesh, dns, workloads, ingress,
                    edges.stream().sorted().toList(), egress);
        }

        private void uniqueNames(String field, YamlNode.Mapping top, List<String> names) {
            if (!(top.entries().get(field) instanceof YamlNode.Sequence s)) return;
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < names.size(); i++) {
                if (names.get(i) != null && !seen.add(names.get(i))) {
                    problem(field + "[" + i + "].name", s.items().get(i), "duplicate " + field + " name '" + names.get(i) + "'");
                }
            }
        }

        /**
         * NetworkPolicy cannot name hosts, so a workload with an egress entry given by DNS name has
         * the entry's ports open to every address, and the EgressFirewall, which is namespace-wide,
         * lets it reach every other entry on those ports too. Such a topology cannot be enforced as
         * written; say so instead of rendering policies that allow more than it names.
         */
        private void checkEgressEnforceable(List<Egress> egress, YamlNode.Sequence nodes) {
            for (int i = 0; i < egress.size(); i++) {
                Egress byName = egress.get(i);
                if (!byName.enabled() || byName.dnsName() == null) continue;
                for (int j = 0; j < egress.size(); j++) {
                    Egress other = egress.get(j);
                    if (i == j || !other.enabled()) continue;
                    for (String workload : byName.from()) {
                        if (other.from().contains(workload)) continue;
                        for (Port port : byName.ports()) {
                            if (other.ports().contains(port)) {
                                problem("egress[" + j + "].from", nodes.items().get(j), "'" + workload + "' reaches "
                                        + byName.dnsName() + " by name on " + port + ", and NetworkPolicy cannot name hosts, so it could also reach "
                                        + other.name() + " (" + other.destination() + ") on that port, which the namespace-wide EgressFirewall allows; "
                                        + "add '" + workload + "' to this entry's from, or give " + byName.name() + " as a cidr");
                                break;
                            }
                        }
                    }
                }
            }
        }

        /** A selector that is a subset of another workload's labels would select that workload's pods too. */
        private void checkSelectorsDisjoint(List<Workload> workloads, YamlNode.Sequence nodes) {
            for (int i = 0; i < workloads.size(); i++) {
                for (int j = 0; j < workloads.size(); j++) {
                    Workload a = workloads.get(i), b = workloads.get(j);
                    if (i == j || a == null || b == null || a.labels().isEmpty()) continue;
                    if (b.labels().entrySet().containsAll(a.labels().entrySet())) {
                        problem("workloads[" + i + "].labels", nodes.items().get(i), "labels " + a.labels()
                                + " of '" + a.name() + "' also select the pods of '" + b.name() + "'; give each workload a label the others lack");
                    }
                }
            }
        }

        private Mesh mesh(YamlNode node) {
            if (node == null) {
                return new Mesh(MeshFlavour.ISTIO, "istio-system", "v2.6");
            }
            YamlNode.Mapping m = mapping("mesh", node);
            if (m == null) return null;
            only("mesh.", m, "flavour", "controlPlaneNamespace", "controlPlaneVersion");
            String flavourText = string("mesh.flavour", m, false);
            MeshFlavour flavour = MeshFlavour.ISTIO;
            if (flavourText != null) {
                flavour = null;
                for (MeshFlavour f : MeshFlavour.values()) {
                    if (f.yamlName().equals(flavourText)) flavour = f;
                }
                if (flavour == null) {
                    problem("mesh.flavour", m.entries().get("flavour"), "'" + flavourText + "' is not one of: istio, openshift-service-mesh");
                }
            }
            String cp = string("mesh.controlPlaneNamespace", m, false);
            if (cp == null) cp = "istio-system";
            else if (!DNS_LABEL.matcher(cp).matches()) problem("mesh.controlPlaneNamespace", m.entries().get("controlPlaneNamespace"), "'" + cp + "' is not a valid namespace name");
            String version = string("mesh.controlPlaneVersion", m, false);
            return new Mesh(flavour, cp, version == null ? "v2.6" : version);
        }

        private ClusterDns clusterDns(YamlNode node) {
            YamlNode.Mapping m = mapping("clusterDns", node);
            if (m == null) return null;
            only("clusterDns.", m, "namespace", "podLabels", "ports");
            String ns = string("clusterDns.namespace", m, true);
            if (ns != null && !DNS_LABEL.matcher(ns).matches()) problem("clusterDns.namespace", m.entries().get("namespace"), "'" + ns + "' is not a valid namespace name");
            SortedMap<String, String> labels = labels("clusterDns.podLabels", m, true);
            List<Port> ports = ports("clusterDns.ports", m);
            return new ClusterDns(ns == null ? "" : ns, labels, ports);
        }

        private Workload workload(String field, YamlNode node) {
            YamlNode.Mapping m = mapping(field, node);
            if (m == null) return null;
            only(field + ".", m, "name", "serviceAccount", "labels", "ports");
            String name = dnsLabel(field + ".name", m, true);
            String sa = string(field + ".serviceAccount", m, true);
            if (sa != null && !DNS_SUBDOMAIN.matcher(sa).matches()) problem(field + ".serviceAccount", m.entries().get("serviceAccount"), "'" + sa + "' is not a valid service account name");
            SortedMap<String, String> labels = labels(field + ".labels", m, true);
            List<Port> ports = ports(field + ".ports", m);
            return new Workload(name, sa, labels, ports);
        }

        private Ingress ingress(String field, YamlNode node, Map<String, Workload> workloads) {
            YamlNode.Mapping m = mapping(field, node);
            if (m == null) return null;
            only(field + ".", m, "name", "namespace", "serviceAccount", "namespaceLabels", "to", "port");
            String name = dnsLabel(field + ".name", m, true);
            String ns = dnsLabel(field + ".namespace", m, true);
            String sa = string(field + ".serviceAccount", m, true);
            if (sa != null && !DNS_SUBDOMAIN.matcher(sa).matches()) problem(field + ".serviceAccount", m.entries().get("serviceAccount"), "'" + sa + "' is not a valid service account name");
            SortedMap<String, String> nsLabels = labels(field + ".namespaceLabels", m, false);
            if (nsLabels.isEmpty() && ns != null) {
                // Kubernetes sets this label on every namespace (1.21+), so it is a safe default selector.
                nsLabels = new TreeMap<>(Map.of("kubernetes.io/metadata.name", ns));
            }
            Workload to = workloadRef(field + ".to", m, workloads);
            Port port = servedPort(field + ".port", m, to);
            return new Ingress(name, ns, sa, nsLabels, to == null ? null : to.name(), port);
        }

        private Edge edge(String field, YamlNode node, Map<String, Workload> workloads) {
            YamlNode.Mapping m = mapping(field, node);
            if (m == null) return null;
            only(field + ".", m, "from", "to", "port");
            Workload from = workloadRef(field + ".from", m, workloads);
            Workload to = workloadRef(field + ".to", m, workloads);
            Port port = servedPort(field + ".port", m, to);
            if (from != null && from == to) {
                problem(field + ".to", m.entries().get("to"), "an edge from '" + from.name() + "' to itself: a pod reaching itself is not subject to policy");
            }
            if (from == null || to == null || port == null) return null;
            return new Edge(from.name(), to.name(), port);
        }

        private Egress egress(String field, YamlNode node, Map<String, Workload> workloads) {
            YamlNode.Mapping m = mapping(field, node);
            if (m == null) return null;
            only(field + ".", m, "name", "dnsName", "cidr", "ports", "from", "enabled");
            String name = dnsLabel(field + ".name", m, true);
            String dnsName = string(field + ".dnsName", m, false);
            String cidr = string(field + ".cidr", m, false);
            if ((dnsName == null) == (cidr == null)) {
                problem(field, m, "give exactly one of dnsName and cidr");
            }
            if (dnsName != null && !EGRESS_DNS.matcher(dnsName).matches()) {
                problem(field + ".dnsName", m.entries().get("dnsName"), "'" + dnsName + "' is not a valid DNS name (lower-case labels separated by dots, optional leading '*.')");
            }
            if (cidr != null && !validCidr(cidr)) {
                problem(field + ".cidr", m.entries().get("cidr"), "'" + cidr + "' is not an IPv4 CIDR such as 192.0.2.0/24 (host bits must be zero)");
            }
            List<Port> ports = ports(field + ".ports", m);
            List<String> from = new ArrayList<>();
            YamlNode fromNode = m.entries().get("from");
            if (fromNode == null) {
                problem(field + ".from", m, "missing: name the workloads that may reach " + (dnsName != null ? dnsName : cidr));
            } else if (fromNode instanceof YamlNode.Sequence s) {
                for (int i = 0; i < s.items().size(); i++) {
                    String ref = scalar(field + ".from[" + i + "]", s.items().get(i));
                    if (ref != null && !workloads.containsKey(ref)) {
                        problem(field + ".from[" + i + "]", s.items().get(i), unknownWorkload(ref, workloads));
                    } else if (ref != null) {
                        from.add(ref);
                    }
                }
                if (s.items().isEmpty()) problem(field + ".from", s, "empty: name at least one workload");
            } else {
                problem(field + ".from", fromNode, "expected a list of workload names, found " + fromNode.describe());
            }
            boolean enabled = true;
            if (m.entries().get("enabled") != null) {
                String text = string(field + ".enabled", m, false);
                if ("false".equals(text)) enabled = false;
                else if (!"true".equals(text)) problem(field + ".enabled", m.entries().get("enabled"), "expected true or false");
            }
            return new Egress(name, dnsName, cidr, ports, from.stream().sorted().toList(), enabled);
        }

        static boolean validCidr(String cidr) {
            var matcher = CIDR.matcher(cidr);
            if (!matcher.matches()) return false;
            long address = 0;
            for (int i = 1; i <= 4; i++) {
                int octet = Integer.parseInt(matcher.group(i));
                if (octet > 255) return false;
                address = (address << 8) | octet;
            }
            int prefix = Integer.parseInt(matcher.group(5));
            if (prefix > 32) return false;
            long hostMask = prefix == 0 ? 0xFFFFFFFFL : (1L << (32 - prefix)) - 1;
            return (address & hostMask) == 0;
        }

        private Workload workloadRef(String field, YamlNode.Mapping m, Map<String, Workload> workloads) {
            String key = field.substring(field.lastIndexOf('.') + 1);
            String ref = string(field, m, true);
            if (ref == null) return null;
            Workload w = workloads.get(ref);
            if (w == null) {
                problem(field, m.entries().get(key), unknownWorkload(ref, workloads));
            }
            return w;
        }

        private static String unknownWorkload(String ref, Map<String, Workload> workloads) {
            return "unknown workload '" + ref + "' (workloads: " + String.join(", ", workloads.keySet()) + ")";
        }

        private Port servedPort(String field, YamlNode.Mapping m, Workload to) {
            YamlNode node = m.entries().get("port");
            if (node == null) {
                problem(field, m, "missing");
                return null;
            }
            Integer number = portNumber(field, node);
            if (number == null || to == null) return null;
            if (!to.serves(number)) {
                problem(field, node, "'" + to.name() + "' does not serve port " + number + " (its ports: "
                        + to.ports().stream().map(Port::toString).toList() + ")");
                return null;
            }
            return to.port(number);
        }

        private List<Port> ports(String field, YamlNode.Mapping parent) {
            String key = field.substring(field.lastIndexOf('.') + 1);
            YamlNode node = parent.entries().get(key);
            List<Port> ports = new ArrayList<>();
            if (node == null) {
                problem(field, parent, "missing: list at least one port");
                return ports;
            }
            if (!(node instanceof YamlNode.Sequence s)) {
                problem(field, node, "expected a list of ports, found " + node.describe());
                return ports;
            }
            if (s.items().isEmpty()) problem(field, s, "empty: list at least one port");
            for (int i = 0; i < s.items().size(); i++) {
                String f = field + "[" + i + "]";
                YamlNode.Mapping pm = mapping(f, s.items().get(i));
                if (pm == null) continue;
                only(f + ".", pm, "port", "protocol");
                YamlNode numberNode = pm.entries().get("port");
                if (numberNode == null) {
                    problem(f + ".port", pm, "missing");
                    continue;
                }
                Integer number = portNumber(f + ".port", numberNode);
                Protocol protocol = Protocol.TCP;
                String protocolText = string(f + ".protocol", pm, false);
                if (protocolText != null) {
                    try {
                        protocol = Protocol.valueOf(protocolText);
                    } catch (IllegalArgumentException e) {
                        problem(f + ".protocol", pm.entries().get("protocol"), "'" + protocolText + "' is not one of TCP, UDP, SCTP");
                    }
                }
                if (number != null) {
                    Port port = new Port(number, protocol);
                    if (ports.contains(port)) problem(f, pm, "duplicate port " + port);
                    ports.add(port);
                }
            }
            return ports;
        }

        private Integer portNumber(String field, YamlNode node) {
            String text = scalar(field, node);
            if (text == null) return null;
            int number;
            try {
                number = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                problem(field, node, "'" + text + "' is not a port number (named ports are not supported)");
                return null;
            }
            if (number < 1 || number > 65535) {
                problem(field, node, "port " + number + " out of range 1-65535");
                return null;
            }
            return number;
        }

        private SortedMap<String, String> labels(String field, YamlNode.Mapping parent, boolean required) {
            String key = field.substring(field.lastIndexOf('.') + 1);
            YamlNode node = parent.entries().get(key);
            SortedMap<String, String> labels = new TreeMap<>();
            if (node == null) {
                if (required) problem(field, parent, "missing: give the labels that select the pods");
                return labels;
            }
            YamlNode.Mapping m = mapping(field, node);
            if (m == null) return labels;
            if (m.entries().isEmpty() && required) problem(field, m, "empty: an empty selector selects every pod");
            for (Map.Entry<String, YamlNode> e : m.entries().entrySet()) {
                String labelKey = e.getKey();
                String value = scalar(field + "." + labelKey, e.getValue());
                int slash = labelKey.lastIndexOf('/');
                String prefix = slash < 0 ? null : labelKey.substring(0, slash);
                String nameOnly = slash < 0 ? labelKey : labelKey.substring(slash + 1);
                if ((prefix != null && !DNS_SUBDOMAIN.matcher(prefix).matches()) || !LABEL_NAME.matcher(nameOnly).matches()) {
                    problem(field + "." + labelKey, m.keyLines().get(labelKey), "'" + labelKey + "' is not a valid label key");
                }
                if (value != null && !LABEL_VALUE.matcher(value).matches()) {
                    problem(field + "." + labelKey, e.getValue(), "'" + value + "' is not a valid label value");
                }
                if (value != null) labels.put(labelKey, value);
            }
            return labels;
        }

        private String dnsLabel(String field, YamlNode.Mapping m, boolean required) {
            String value = string(field, m, required);
            if (value != null && !DNS_LABEL.matcher(value).matches()) {
                String key = field.substring(field.lastIndexOf('.') + 1);
                problem(field, m.entries().get(key), "'" + value + "' is not a valid name (DNS label: lower-case letters, digits, '-', at most 63)");
            }
            return value;
        }

        private String string(String field, YamlNode.Mapping m, boolean required) {
            String key = field.substring(field.lastIndexOf('.') + 1);
            YamlNode node = m.entries().get(key);
            if (node == null) {
                if (required) problem(field, m, "missing");
                return null;
            }
            return scalar(field, node);
        }

        private String scalar(String field, YamlNode node) {
            if (node instanceof YamlNode.Scalar s && !s.isNull()) {
                return s.text();
            }
            problem(field, node, "expected a value, found " + node.describe());
            return null;
        }

        private YamlNode.Mapping mapping(String field, YamlNode node) {
            if (node instanceof YamlNode.Mapping m) return m;
            problem(field, node, "expected a mapping, found " + node.describe());
            return null;
        }

        private <T> List<T> list(String field, YamlNode.Mapping parent, boolean required, BiFunction<String, YamlNode, T> item) {
            YamlNode node = parent.entries().get(field);
            List<T> result = new ArrayList<>();
            if (node == null) {
                if (required) problem(field, parent, "missing");
                return result;
            }
            if (!(node instanceof YamlNode.Sequence s)) {
                problem(field, node, "expected a list, found " + node.describe());
                return result;
            }
            for (int i = 0; i < s.items().size(); i++) {
                result.add(item.apply(field + "[" + i + "]", s.items().get(i)));
            }
            return result;
        }

        private void only(String prefix, YamlNode.Mapping m, String... allowed) {
            Set<String> known = Set.of(allowed);
            for (String key : m.entries().keySet()) {
                if (!known.contains(key)) {
                    problem(prefix + key, m.keyLines().get(key), "unknown field (expected one of: " + String.join(", ", allowed) + ")");
                }
            }
        }
    }
}
