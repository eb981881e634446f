package dev.tresor.mesh.render;

import dev.tresor.mesh.render.TunnelFile.Tunnel;
import dev.tresor.mesh.topology.Edge;
import dev.tresor.mesh.topology.Ingress;
import dev.tresor.mesh.topology.Port;
import dev.tresor.mesh.topology.Protocol;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.Workload;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The same topology for hosts without a mesh: one {@code tresor tunnel --config} file per workload
 * (its host), in the format tresor-tunnel's {@code ConfigFile} reads (docs/tunnel.md).
 *
 * <p>For every port of a workload that edges reach, one server tunnel listens on port + offset and
 * forwards to the service on 127.0.0.1:port, admitting exactly the SPIFFE IDs of those edges'
 * sources. For every edge, the source's host gets a client tunnel on 127.0.0.1:port (so the
 * application only changes its host name to 127.0.0.1; or port + a client offset) that connects to
 * the destination's server tunnel and expects the destination's identity. Ingress entries are not rendered: a router outside
 * a mesh has no SPIFFE identity a tunnel could admit it by (see {@link #notes}).
 *
 * <p>Pure and deterministic: files by workload name, servers by port, clients by destination and
 * port, identities sorted.
 */
public final class TunnelRenderer {

    /** tresor-tunnel's limit on tunnel names ({@code [A-Za-z0-9._-]{1,64}}); they label its metrics. */
    private static final int MAX_NAME = 64;

    private final TopologyHash hash;

    public TunnelRenderer(TopologyHash hash) {
        this.hash = hash;
    }

    public static String identity(Topology topology, String serviceAccount) {
        return "spiffe://" + topology.principal(topology.namespace(), serviceAccount);
    }

    /** @throws TunnelRenderException listing every edge or port that a tunnel cannot carry */
    public List<TunnelFile> render(Topology topology, TunnelOptions options) {
        List<String> problems = new ArrayList<>();
        // destination -> port -> source workloads, for the server tunnels
        SortedMap<String, SortedMap<Port, SortedSet<String>>> inbound = new TreeMap<>();
        SortedMap<String, List<Edge>> outbound = new TreeMap<>();
        for (Edge edge : new TreeSet<>(topology.edges())) {
            if (edge.port().protocol() != Protocol.TCP) {
                problems.add("edge " + describe(edge) + ": tresor tunnel carries TCP only; render tunnels from a topology "
                        + "without this edge and protect it another way");
                continue;
            }
            inbound.computeIfAbsent(edge.to(), k -> new TreeMap<>()).computeIfAbsent(edge.port(), k -> new TreeSet<>())
                    .add(edge.from());
            outbound.computeIfAbsent(edge.from(), k -> new ArrayList<>()).add(edge);
        }
        Map<String, List<String>> ingressNotes = new TreeMap<>();
        for (Note note : notes(topology)) {
            ingressNotes.computeIfAbsent(note.workload(), k -> new ArrayList<>()).add(note.text());
        }
        List<TunnelFile> files = new ArrayList<>();
        for (Workload workload : topology.workloads().stream().sorted(Comparator.comparing(Workload::name)).toList()) {
            PortsOfHost ports = new PortsOfHost(workload.name(), problems);
            workload.ports().stream().filter(p -> p.protocol() == Protocol.TCP)
                    .forEach(p -> ports.use(p.number(), "its own service on " + p.number()));
            List<Tunnel> tunnels = new ArrayList<>();
            for (var served : inbound.getOrDefault(workload.name(), new TreeMap<>()).entrySet()) {
                int port = served.getKey().number();
                int listen = port + options.portOffset();
                if (listen > 65535) {
                    problems.add("workload " + workload.name() + " port " + port + ": its server tunnel would listen on "
                            + listen + " (port + --tunnel-port-offset " + options.portOffset() + "), above 65535; choose a "
                            + "smaller offset");
                    continue;
                }
                ports.use(listen, "the server tunnel for port " + port);
                List<String> allowed = served.getValue().stream()
                        .map(from -> identity(topology, topology.requireWorkload(from).serviceAccount()))
                        .distinct().sorted().toList();
                tunnels.add(new Tunnel("in-" + port, true, "0.0.0.0:" + listen, "127.0.0.1:" + port, allowed,
                        workload.name() + ":" + port + " over mTLS on " + listen + ", admitting the sources of its edges: "
                                + String.join(", ", served.getValue())));
            }
            for (Edge edge : outbound.getOrDefault(workload.name(), List.of())) {
                int port = edge.port().number();
                int remote = port + options.portOffset();
                if (remote > 65535) {
                    continue; // reported once, with the destination's server tunnel
                }
                int local = port + options.clientPortOffset();
                if (local > 65535) {
                    problems.add("workload " + workload.name() + ": its client tunnel to " + edge.to() + ":" + port
                            + " would listen on " + local + " (port + --tunnel-client-port-offset " + options.clientPortOffset()
                            + "), above 65535; choose a smaller offset");
                    continue;
                }
                ports.use(local, "the client tunnel to " + edge.to() + ":" + port);
                Workload to = topology.requireWorkload(edge.to());
                tunnels.add(new Tunnel(clientName(edge.to(), port), false, "127.0.0.1:" + local,
                        options.host(edge.to()) + ":" + remote, List.of(identity(topology, to.serviceAccount())),
                        workload.name() + " -> " + edge.to() + ":" + port + ": the application connects to 127.0.0.1:" + local));
            }
            if (!tunnels.isEmpty()) {
                files.add(new TunnelFile(workload.name(), identity(topology, workload.serviceAccount()), tunnels,
                        ingressNotes.getOrDefault(workload.name(), List.of())));
            }
        }
        if (!problems.isEmpty()) {
            throw new TunnelRenderException(problems.stream().sorted().distinct().toList());
        }
        return files;
    }

    /** Something of the topology the tunnel files leave out, and the workload whose file says so. */
    public record Note(String workload, String text) {}

    /**
     * What the tunnel files leave out, one per ingress entry: a router or gateway has a principal only
     * inside the mesh, so no server tunnel admits it.
     */
    public static List<Note> notes(Topology topology) {
        List<Note> notes = new ArrayList<>();
        for (Ingress in : topology.ingress()) {
            notes.add(new Note(in.to(), "ingress " + in.name() + " (" + in.namespace() + "/" + in.serviceAccount() + ") -> " + in.to()
                    + ":" + in.port().number() + " is not tunnelled: a router outside a mesh has no SPIFFE identity to admit "
                    + "it by; expose " + in.to() + ":" + in.port().number() + " to the router yourself (its own TLS)"));
        }
        return notes.stream().sorted(Comparator.comparing(Note::workload).thenComparing(Note::text)).toList();
    }

    /** The file in tresor-tunnel's config format, comments first; the same file always gives the same bytes. */
    public String toYaml(Topology topology, TunnelFile file) {
        String w = file.workload();
        StringBuilder y = new StringBuilder();
        y.append("# tresor tunnel --config ").append(file.fileName()).append('\n');
        y.append("# Rendered by tresor mesh render --tunnels from namespace ").append(topology.namespace())
                .append(", topology sha256 ").append(hash.of(topology)).append(".\n");
        y.append("# The host of workload ").append(w).append(": ").append(w).append(".crt (key ").append(w)
                .append(".key) must name\n#   ").append(file.identity()).append('\n');
        y.append("# (tresor cert join --profile workload); bundle.pem holds the CAs peers chain to. Paths are\n");
        y.append("# relative to this file. Add crl: FILE to each tunnel to refuse revoked peers.\n");
        for (String note : file.notes()) {
            y.append("# Note: ").append(note).append('\n');
        }
        y.append("tunnels:\n");
        for (Tunnel t : file.tunnels()) {
            y.append("  # ").append(t.comment()).append('\n');
            y.append("  - name: ").append(t.name()).append('\n');
            y.append("    mode: ").append(t.server() ? "server" : "client").append('\n');
            y.append("    listen: \"").append(t.listen()).append("\"\n");
            y.append("    target: \"").append(t.target()).append("\"\n");
            y.append("    ").append(t.server() ? "allow" : "expect").append(":\n");
            for (String peer : t.peers()) {
                y.append("      - ").append(peer).append('\n');
            }
            y.append("    cert: ").append(w).append(".crt\n");
            y.append("    key: ").append(w).append(".key\n");
            y.append("    caBundle: bundle.pem\n");
        }
        return y.toString();
    }

    private static String describe(Edge edge) {
        return edge.from() + " -> " + edge.to() + ":" + edge.port();
    }

    /** {@code to-<destination>-<port>}; a destination name too long for tresor-tunnel's limit is cut and tagged with its hash. */
    static String clientName(String to, int port) {
        String name = "to-" + to + "-" + port;
        if (name.length() <= MAX_NAME) return name;
        String tag = sha256(to).substring(0, 8);
        String suffix = "-" + tag + "-" + port;
        return "to-" + to.substring(0, MAX_NAME - 3 - suffix.length()) + suffix;
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** The TCP ports one host binds; a number needed twice is a problem naming both uses. */
    private static final class PortsOfHost {
        private final String workload;
        private final List<String> problems;
        private final Map<Integer, String> used = new TreeMap<>();

        PortsOfHost(String workload, List<String> problems) {
            this.workload = workload;
            this.problems = problems;
        }

        void use(int port, String what) {
            String before = used.putIfAbsent(port, what);
            if (before != null) {
                boolean client = what.startsWith("the client") || before.startsWith("the client");
                problems.add("workload " + workload + ": port " + port + " is needed twice on its host, by " + before
                        + " and by " + what + (client
                        ? " (a client tunnel listens on its destination's port + --tunnel-client-port-offset); give one of "
                                + "the services another port, or choose another offset"
                        : "; change --tunnel-port-offset or a port in the topology"));
            }
        }
    }
}
