package dev.tresor.mesh.render;

import dev.tresor.mesh.topology.Edge;
import dev.tresor.mesh.topology.Egress;
import dev.tresor.mesh.topology.Ingress;
import dev.tresor.mesh.topology.MeshFlavour;
import dev.tresor.mesh.topology.Port;
import dev.tresor.mesh.topology.Protocol;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.Workload;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns a topology into the objects of a default-deny namespace. Pure and deterministic: the
 * same topology gives the same objects in the same order (by apply order of kind, then name),
 * so re-rendering is a no-op in git and on the cluster.
 */
public final class Renderer {

    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "tresor";
    public static final String HASH_ANNOTATION = "tresor.dev/topology-sha256";
    /** Kubernetes (1.21+) labels every namespace with its name, so selectors can rely on it. */
    public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

    /** Apply order: the control plane and namespace first, then what refers to them. */
    static final List<String> KIND_ORDER = List.of("Namespace", "ServiceMeshControlPlane", "ServiceMeshMemberRoll",
            "PeerAuthentication", "AuthorizationPolicy", "Sidecar", "NetworkPolicy", "EgressFirewall");

    private static final String ISTIO_SECURITY = "security.istio.io/v1beta1";
    private static final String ISTIO_NETWORKING = "networking.istio.io/v1beta1";

    private final TopologyHash hash;

    public Renderer(TopologyHash hash) {
        this.hash = hash;
    }

    public List<Manifest> render(Topology topology, Mode mode) {
        Context c = new Context(topology, hash.of(topology));
        List<Manifest> out = new ArrayList<>();
        switch (mode) {
            case FULL -> {
                out.addAll(controlPlane(c));
                out.addAll(meshPolicies(c));
                out.addAll(networkPolicies(c, true));
                out.add(egressFirewall(c));
            }
            case MESH -> {
                out.addAll(meshPolicies(c));
                out.addAll(networkPolicies(c, true));
                out.add(egressFirewall(c));
            }
            case NETPOL_ONLY -> out.addAll(networkPolicies(c, false));
            case EGRESS_ONLY -> out.add(egressFirewall(c));
        }
        out.sort(Comparator.comparing((Manifest m) -> KIND_ORDER.indexOf(m.kind())).thenComparing(Manifest::name));
        return List.copyOf(out);
    }

    private record Context(Topology topology, String hash) {

        String ns() {
            return topology.namespace();
        }

        Manifest object(String apiVersion, String kind, String name, String namespace, String comment,
                        Map<String, Object> spec, Map<String, String> extraLabels) {
            Map<String, Object> labels = new LinkedHashMap<>();
            labels.put(MANAGED_BY_LABEL, MANAGED_BY);
            labels.putAll(extraLabels);
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("name", name);
            if (namespace != null) {
                metadata.put("namespace", namespace);
            }
            metadata.put("labels", labels);
            metadata.put("annotations", map(HASH_ANNOTATION, hash));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("apiVersion", apiVersion);
            body.put("kind", kind);
            body.put("metadata", metadata);
            if (spec != null) {
                body.put("spec", spec);
            }
            return new Manifest(kind, name, comment, body);
        }

        Manifest object(String apiVersion, String kind, String name, String comment, Map<String, Object> spec) {
            return object(apiVersion, kind, name, ns(), comment, spec, Map.of());
        }
    }

    // ---- control plane (--full) ----

    private List<Manifest> controlPlane(Context c) {
        Topology t = c.topology();
        List<Manifest> out = new ArrayList<>();
        boolean openshift = t.mesh().flavour() == MeshFlavour.OPENSHIFT_SERVICE_MESH;
        // Upstream Istio injects sidecars by namespace label; OpenShift Service Mesh 2.x ignores it and uses the SMMR.
        Map<String, String> nsLabels = openshift ? Map.of() : Map.of("istio-injection", "enabled");
        out.add(c.object("v1", "Namespace", t.namespace(), null,
                "The namespace itself" + (openshift ? "; mesh membership comes from the ServiceMeshMemberRoll."
                        : ", labelled so that istiod injects a sidecar into every pod."), null, nsLabels));
        if (openshift) {
            out.add(c.object("maistra.io/v2", "ServiceMeshControlPlane", "basic", t.mesh().controlPlaneNamespace(),
                    "The OpenShift Service Mesh 2.x control plane; mTLS between all sidecars of its members.",
                    map("version", t.mesh().controlPlaneVersion(),
                            "security", map("dataPlane", map("mtls", true), "controlPlane", map("mtls", true))),
                    Map.of()));
            out.add(c.object("maistra.io/v1", "ServiceMeshMemberRoll", "default", t.mesh().controlPlaneNamespace(),
                    "Makes " + t.namespace() + " a member of the mesh (OpenShift only injects sidecars in member namespaces).",
                    map("members", List.of(t.namespace())), Map.of()));
        }
        return out;
    }

    // ---- Istio: mTLS, authorization, sidecar scoping ----

    private List<Manifest> meshPolicies(Context c) {
        Topology t = c.topology();
        List<Manifest> out = new ArrayList<>();
        out.add(c.object(ISTIO_SECURITY, "PeerAuthentication", "default",
                "Every workload in the namespace accepts mutual TLS only: no plaintext, and every peer has a verified principal.",
                map("mtls", map("mode", "STRICT"))));
        // An ALLOW policy with no rules matches nothing; applying to every workload, it denies whatever no other ALLOW names.
        out.add(c.object(ISTIO_SECURITY, "AuthorizationPolicy", "deny-all",
                "Baseline: denies every request to every workload of the namespace unless an ALLOW policy below names it.",
                map()));
        for (Edge e : t.edges()) {
            Workload from = t.requireWorkload(e.from());
            Workload to = t.requireWorkload(e.to());
            out.add(authorization(c, "allow-" + e.from() + "-to-" + e.to() + "-" + portName(e.port()),
                    "Edge " + e.from() + " -> " + e.to() + ":" + e.port() + ": only " + e.from()
                            + "'s service account, only this port.",
                    to, t.principal(from), e.port()));
        }
        for (Ingress i : t.ingress()) {
            out.add(authorization(c, "allow-" + i.name() + "-to-" + i.to() + "-" + portName(i.port()),
                    "Ingress " + i.name() + " (" + i.namespace() + ") -> " + i.to() + ":" + i.port() + " by the gateway's principal.",
                    t.requireWorkload(i.to()), t.principal(i.namespace(), i.serviceAccount()), i.port()));
        }
        for (Workload w : t.workloads()) {
            TreeSet<String> hosts = new TreeSet<>();
            for (Edge e : t.edges()) {
                if (e.from().equals(w.name())) {
                    hosts.add("./" + e.to() + "." + t.namespace() + ".svc.cluster.local");
                }
            }
            hosts.add(t.mesh().controlPlaneNamespace() + "/*");
            out.add(c.object(ISTIO_NETWORKING, "Sidecar", w.name(),
                    "Scopes " + w.name() + "'s proxy configuration to the services it has edges to (and the control plane).",
                    map("workloadSelector", map("labels", new LinkedHashMap<String, Object>(w.labels())),
                            "egress", List.of(map("hosts", List.copyOf(hosts))))));
        }
        return out;
    }

    private static Manifest authorization(Context c, String name, String comment, Workload to, String principal, Port port) {
        return c.object(ISTIO_SECURITY, "AuthorizationPolicy", name, comment,
                map("selector", map("matchLabels", new LinkedHashMap<String, Object>(to.labels())),
                        "action", "ALLOW",
                        "rules", List.of(map(
                                "from", List.of(map("source", map("principals", List.of(principal)))),
                                "to", List.of(map("operation", map("ports", List.of(Integer.toString(port.number())))))))));
    }

    // ---- NetworkPolicy: works without a mesh ----

    private List<Manifest> networkPolicies(Context c, boolean withMesh) {
        Topology t = c.topology();
        List<Manifest> out = new ArrayList<>();
        out.add(networkPolicy(c, "default-deny",
                "Baseline: every pod of the namespace is isolated for ingress and egress; the policies below open the edges.",
                map(), List.of("Ingress", "Egress"), null, null));
        out.add(networkPolicy(c, "allow-dns", "Every pod may query the cluster DNS (name resolution breaks under default-deny otherwise).",
                map(), List.of("Egress"), null,
                List.of(map("to", List.of(map(
                                "namespaceSelector", matchLabels(Map.of(NAMESPACE_NAME_LABEL, t.clusterDns().namespace())),
                                "podSelector", matchLabels(t.clusterDns().podLabels()))),
                        "ports", ports(t.clusterDns().ports())))));
        if (withMesh) {
            // Sidecars fetch configuration and certificates from istiod; without this, no pod of the namespace starts.
            out.add(networkPolicy(c, "allow-istio-control-plane",
                    "Every sidecar may reach istiod (xDS and certificates on 15012) in " + t.mesh().controlPlaneNamespace() + ".",
                    map(), List.of("Egress"), null,
                    List.of(map("to", List.of(map(
                                    "namespaceSelector", matchLabels(Map.of(NAMESPACE_NAME_LABEL, t.mesh().controlPlaneNamespace())),
                                    "podSelector", matchLabels(Map.of("app", "istiod")))),
                            "ports", ports(List.of(Port.tcp(15012)))))));
        }
        for (Edge e : t.edges()) {
            Workload from = t.requireWorkload(e.from());
            Workload to = t.requireWorkload(e.to());
            String edge = "Edge " + e.from() + " -> " + e.to() + ":" + e.port();
            out.add(networkPolicy(c, e.from() + "-egress-to-" + e.to() + "-" + portName(e.port()),
                    edge + ", source side: " + e.from() + " may open it.",
                    matchLabels(from.labels()), List.of("Egress"), null,
                    List.of(map("to", List.of(map("podSelector", matchLabels(to.labels()))), "ports", ports(List.of(e.port()))))));
            out.add(networkPolicy(c, e.to() + "-ingress-from-" + e.from() + "-" + portName(e.port()),
                    edge + ", destination side: " + e.to() + " accepts it.",
                    matchLabels(to.labels()), List.of("Ingress"),
                    List.of(map("from", List.of(map("podSelector", matchLabels(from.labels()))), "ports", ports(List.of(e.port())))),
                    null));
        }
        for (Ingress i : t.ingress()) {
            out.add(networkPolicy(c, i.to() + "-ingress-from-" + i.name() + "-" + portName(i.port()),
                    "Ingress " + i.name() + ": pods of namespace " + i.namespace() + " may reach " + i.to() + ":" + i.port() + ".",
                    matchLabels(t.requireWorkload(i.to()).labels()), List.of("Ingress"),
                    List.of(map("from", List.of(map("namespaceSelector", matchLabels(i.namespaceLabels()))),
                            "ports", ports(List.of(i.port())))),
                    null));
        }
        for (Egress e : t.enabledEgress()) {
            // NetworkPolicy cannot name a DNS name: such entries open the port to any address, and the
            // EgressFirewall (which resolves names) narrows it to the destination.
            String cidr = e.cidr() != null ? e.cidr() : "0.0.0.0/0";
            for (String source : e.from()) {
                Workload w = t.requireWorkload(source);
                out.add(networkPolicy(c, source + "-egress-to-" + e.name(),
                        "Egress " + e.name() + " (" + e.destination() + ") from " + source
                                + (e.cidr() == null ? "; NetworkPolicy cannot name hosts, the EgressFirewall restricts it to " + e.dnsName() + "." : "."),
                        matchLabels(w.labels()), List.of("Egress"), null,
                        List.of(map("to", List.of(map("ipBlock", map("cidr", cidr))), "ports", ports(e.ports())))));
            }
        }
        return out;
    }

    private static Manifest networkPolicy(Context c, String name, String comment, Map<String, Object> podSelector,
                                          List<String> policyTypes, List<Object> ingress, List<Object> egress) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("podSelector", podSelector);
        spec.put("policyTypes", policyTypes);
        if (ingress != null) spec.put("ingress", ingress);
        if (egress != null) spec.put("egress", egress);
        return c.object("networking.k8s.io/v1", "NetworkPolicy", name, comment, spec);
    }

    // ---- EgressFirewall (OVN-Kubernetes): leaving the cluster ----

    private static Manifest egressFirewall(Context c) {
        List<Object> rules = new ArrayList<>();
        for (Egress e : c.topology().enabledEgress()) {
            rules.add(map("type", "Allow",
                    "to", e.dnsName() != null ? map("dnsName", e.dnsName()) : map("cidrSelector", e.cidr()),
                    "ports", e.ports().stream().map(p -> (Object) map("port", p.number(), "protocol", p.protocol().name())).toList()));
        }
        rules.add(map("type", "Deny", "to", map("cidrSelector", "0.0.0.0/0")));
        // OVN-Kubernetes accepts one EgressFirewall per namespace and only under the name "default".
        return c.object("k8s.ovn.org/v1", "EgressFirewall", "default",
                "Traffic leaving the cluster: the allow-list, in order, then deny everything else (rules are evaluated top down).",
                map("egress", rules));
    }

    // ---- helpers ----

    private static String portName(Port port) {
        return port.protocol() == Protocol.TCP ? Integer.toString(port.number()) : port.number() + "-" + port.protocol().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static Map<String, Object> matchLabels(Map<String, String> labels) {
        return map("matchLabels", new LinkedHashMap<String, Object>(labels));
    }

    private static List<Object> ports(List<Port> ports) {
        return ports.stream().sorted().map(p -> (Object) map("port", p.number(), "protocol", p.protocol().name())).toList();
    }

    static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
