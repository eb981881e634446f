package dev.tresor.mesh.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.mesh.render.CrdSchemas;
import dev.tresor.mesh.render.Mode;
import dev.tresor.mesh.render.TopologyHash;
import dev.tresor.mesh.render.TunnelFile;
import dev.tresor.mesh.render.TunnelOptions;
import dev.tresor.mesh.render.TunnelRenderException;
import dev.tresor.mesh.render.TunnelRenderer;
import dev.tresor.mesh.topology.Protocol;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import dev.tresor.mesh.topology.TopologyLoader;
import dev.tresor.mesh.topology.Workload;
import dev.tresor.tunnel.config.ConfigFile;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.config.TunnelsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property: for random bounded topologies (200, each 2 to 6 workloads with 1 to 3 ports, any
 * subset of the possible edges, optional ingress and egress), rendering and then checking allows
 * exactly the topology's edges in every layer, with no problem reported, and every Istio and OVN
 * object is valid under its CRD schema. The same topologies also drive the {@code render --tunnels}
 * property below. Seeded, so a failure reproduces; the seed and the topology are in the message.
 */
class RenderCheckPropertyTest {

    private static final long SEED = 18;
    private static final int TOPOLOGIES = 200;
    private static final int MAX_WORKLOADS = 6;

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final CheckFixture fixture = new CheckFixture();
    private final CrdSchemas schemas = new CrdSchemas();

    @Test
    void renderedTopologiesCheckToExactlyTheirEdges() throws IOException {
        Random random = new Random(SEED);
        int edgesSeen = 0;
        int withEgress = 0;
        int unenforceable = 0;
        int schemaChecked = 0;
        for (int n = 0; n < TOPOLOGIES; n++) {
            String yaml;
            Topology topology;
            while (true) {
                yaml = randomTopology(random);
                try {
                    topology = new TopologyLoader().parse(yaml, "random-" + n + ".yaml");
                    break;
                } catch (TopologyException e) {
                    // The only invalid topologies the generator makes: egress by name sharing a port with another workload's entry.
                    assertThat(e.problems()).allSatisfy(p -> assertThat(p.message()).contains("NetworkPolicy cannot name hosts"));
                    unenforceable++;
                }
            }
            Set<String> expected = new TreeSet<>();
            topology.edges().forEach(e -> expected.add(e.from() + " -> " + e.to() + ":" + e.port()));
            topology.ingress().forEach(i -> expected.add("ingress:" + i.name() + " -> " + i.to() + ":" + i.port()));
            edgesSeen += topology.edges().size();
            if (!topology.egress().isEmpty()) withEgress++;
            for (Mode mode : List.of(Mode.MESH, Mode.NETPOL_ONLY)) {
                Set<Layer> layers = mode == Mode.MESH ? EnumSet.allOf(Layer.class) : EnumSet.of(Layer.NETWORK_POLICY);
                String rendered = fixture.render(topology, mode);
                CheckReport report = fixture.check(topology, rendered, layers);
                String context = "seed " + SEED + ", topology " + n + ", mode " + mode + ":\n" + yaml + "\n" + report.render();
                assertThat(report.problems()).as(context).isEmpty();
                assertThat(report.allowedPairs()).as(context).isEqualTo(expected);
                // Every intended egress is allowed; nothing else leaves.
                assertThat(report.egress()).as(context).allSatisfy(r -> assertThat(r.allowed()).isEqualTo(r.intended()));
                // Every Istio and OVN object is valid under its CRD schema (ManifestSchemaTest has the refusals).
                for (String document : rendered.split("(?m)^---\n")) {
                    if (document.isBlank()) continue;
                    JsonNode object = YAML.readTree(document);
                    if (schemas.kinds().contains(object.path("kind").asText())) {
                        assertThat(schemas.validate(object)).as(context + "\n" + document).isEmpty();
                        schemaChecked++;
                    }
                }
            }
        }
        // The generator must actually exercise the checker, not produce trivial cases.
        assertThat(edgesSeen).isGreaterThan(TOPOLOGIES * 2);
        assertThat(withEgress).isGreaterThan(TOPOLOGIES / 3);
        assertThat(unenforceable).isLessThan(TOPOLOGIES);
        assertThat(schemaChecked).isGreaterThan(TOPOLOGIES * 5);
    }

    /**
     * Property: for the same kind of random topologies, {@code render --tunnels} refuses exactly those
     * whose ports clash on a host (computed here independently), and otherwise every file loads with
     * tresor-tunnel's {@link ConfigFile}, has one server tunnel per reached port whose allow-list admits
     * exactly the SPIFFE IDs of that port's edge sources (every other workload, the gateway and an
     * outsider are refused), and one client tunnel per edge expecting only the destination.
     */
    @Test
    void renderedTunnelsAdmitExactlyTheSourcesOfTheirEdges(@TempDir Path dir) throws IOException {
        Random random = new Random(SEED);
        TunnelRenderer renderer = new TunnelRenderer(new TopologyHash());
        int[] rendered = new int[2]; // per client offset: 0, 20000
        int[] refused = new int[2];
        int serverTunnels = 0;
        for (int n = 0; n < TOPOLOGIES; n++) {
            String yaml = randomTopology(random);
            Topology topology;
            try {
                topology = new TopologyLoader().parse(yaml, "random-" + n + ".yaml");
            } catch (TopologyException e) {
                continue; // the unenforceable egress case of the test above; tunnels do not carry egress
            }
            // Clients on the service's own port (the default) and on port + 20000.
            for (int clientOffset : new int[] {0, 20000}) {
                TunnelOptions options = new TunnelOptions(TunnelOptions.DEFAULT_PORT_OFFSET, clientOffset, java.util.Optional.empty());
                String context = "seed " + SEED + ", topology " + n + ", client offset " + clientOffset + ":\n" + yaml;
                boolean clash = portsClash(topology, TunnelOptions.DEFAULT_PORT_OFFSET, clientOffset);
                List<TunnelFile> files;
                try {
                    files = renderer.render(topology, options);
                } catch (TunnelRenderException e) {
                    assertThat(clash).as(context + "\nrefused: " + e.getMessage()).isTrue();
                    assertThat(e.problems()).as(context).allSatisfy(p -> assertThat(p).containsAnyOf("needed twice", "above 65535"));
                    refused[clientOffset == 0 ? 0 : 1]++;
                    continue;
                }
                assertThat(clash).as(context + "\nrendered although ports clash").isFalse();
                rendered[clientOffset == 0 ? 0 : 1]++;
                Path folder = Files.createDirectories(dir.resolve("t" + n + "-" + clientOffset));
                Files.writeString(folder.resolve("bundle.pem"), "placeholder");
                List<String> everyone = new ArrayList<>();
                topology.workloads().forEach(w -> everyone.add(TunnelRenderer.identity(topology, w.serviceAccount())));
                topology.ingress().forEach(i -> everyone.add("spiffe://" + topology.principal(i.namespace(), i.serviceAccount())));
                everyone.add("spiffe://" + topology.trustDomain() + "/ns/elsewhere/sa/sa0");
                Set<String> filesExpected = new TreeSet<>();
                topology.edges().forEach(e -> { filesExpected.add(e.from()); filesExpected.add(e.to()); });
                assertThat(files).as(context).extracting(TunnelFile::workload).containsExactlyElementsOf(filesExpected);
                for (TunnelFile file : files) {
                    Files.writeString(folder.resolve(file.workload() + ".crt"), "placeholder");
                    Files.writeString(folder.resolve(file.workload() + ".key"), "placeholder");
                    Path path = Files.writeString(folder.resolve(file.fileName()), renderer.toYaml(topology, file));
                    TunnelsConfig config = ConfigFile.load(path);
                    Set<Integer> reached = new TreeSet<>();
                    topology.edges().stream().filter(e -> e.to().equals(file.workload())).forEach(e -> reached.add(e.port().number()));
                    List<TunnelSpec> servers = config.tunnels().stream().filter(t -> t.mode() == dev.tresor.tunnel.config.Mode.SERVER).toList();
                    assertThat(servers).as(context).extracting(t -> t.target().port()).containsExactlyElementsOf(reached);
                    for (TunnelSpec server : servers) {
                        int port = server.target().port();
                        Set<String> sources = new TreeSet<>();
                        topology.edges().stream().filter(e -> e.to().equals(file.workload()) && e.port().number() == port)
                                .forEach(e -> sources.add(TunnelRenderer.identity(topology, topology.requireWorkload(e.from()).serviceAccount())));
                        for (String id : everyone) {
                            assertThat(server.peers().allows(id)).as(context + "\n" + file.fileName() + " " + server.name() + " admits " + id)
                                    .isEqualTo(sources.contains(id));
                        }
                        serverTunnels++;
                    }
                    Set<String> outgoing = new TreeSet<>();
                    topology.edges().stream().filter(e -> e.from().equals(file.workload()))
                            .forEach(e -> outgoing.add(e.to() + ":" + (e.port().number() + TunnelOptions.DEFAULT_PORT_OFFSET)));
                    List<TunnelSpec> clients = config.tunnels().stream().filter(t -> t.mode() == dev.tresor.tunnel.config.Mode.CLIENT).toList();
                    assertThat(clients).as(context).extracting(t -> t.target().toString()).containsExactlyInAnyOrderElementsOf(outgoing);
                    for (TunnelSpec client : clients) {
                        assertThat(client.listen().port()).as(context).isEqualTo(client.target().port() - TunnelOptions.DEFAULT_PORT_OFFSET + clientOffset);
                        String destination = TunnelRenderer.identity(topology, topology.requireWorkload(client.target().host()).serviceAccount());
                        for (String id : everyone) {
                            assertThat(client.peers().allows(id)).as(context + "\n" + client.name() + " expects " + id)
                                    .isEqualTo(id.equals(destination));
                        }
                    }
                }
            }
        }
        // Both outcomes must be exercised; the client offset must rescue the workloads that reach a port number they serve.
        assertThat(rendered[0]).isGreaterThan(TOPOLOGIES / 4);
        assertThat(rendered[1]).isGreaterThan(rendered[0]);
        assertThat(refused[0]).isGreaterThan(0);
        assertThat(refused[1]).isGreaterThan(0);
        assertThat(serverTunnels).isGreaterThan(TOPOLOGIES);
        System.out.println("render --tunnels property: rendered " + rendered[0] + " / " + rendered[1] + ", refused " + refused[0]
                + " / " + refused[1] + " (client offset 0 / 20000), " + serverTunnels + " server tunnels checked");
    }

    /** The oracle: on some host a TCP port is bound twice (own services, server tunnels, client tunnels), or above 65535. */
    private static boolean portsClash(Topology topology, int offset, int clientOffset) {
        for (Workload w : topology.workloads()) {
            List<Integer> bound = new ArrayList<>();
            w.ports().stream().filter(p -> p.protocol() == Protocol.TCP).forEach(p -> bound.add(p.number()));
            topology.edges().stream().filter(e -> e.to().equals(w.name())).map(e -> e.port().number() + offset).distinct()
                    .forEach(bound::add);
            topology.edges().stream().filter(e -> e.from().equals(w.name())).forEach(e -> bound.add(e.port().number() + clientOffset));
            if (bound.stream().anyMatch(p -> p > 65535) || new TreeSet<>(bound).size() != bound.size()) {
                return true;
            }
        }
        return false;
    }

    private static String randomTopology(Random random) {
        int workloads = 2 + random.nextInt(MAX_WORKLOADS - 1);
        StringBuilder y = new StringBuilder("namespace: ns" + random.nextInt(1000) + "\nworkloads:\n");
        List<List<Integer>> ports = new ArrayList<>();
        for (int w = 0; w < workloads; w++) {
            TreeSet<Integer> own = new TreeSet<>();
            int count = 1 + random.nextInt(3);
            while (own.size() < count) {
                // Mostly a small shared pool, so different workloads often serve the same port.
                own.add(random.nextBoolean() ? 8000 + random.nextInt(4) : 1 + random.nextInt(65535));
            }
            ports.add(List.copyOf(own));
            y.append("  - name: w").append(w).append("\n    serviceAccount: sa").append(w)
                    .append("\n    labels: {app: w").append(w).append(random.nextBoolean() ? ", tier: t" + random.nextInt(3) : "")
                    .append("}\n    ports:\n");
            for (int p : own) y.append("      - {port: ").append(p).append("}\n");
        }
        List<String> edges = new ArrayList<>();
        double density = 0.1 + random.nextDouble() * 0.5;
        for (int from = 0; from < workloads; from++) {
            for (int to = 0; to < workloads; to++) {
                if (from == to) continue;
                for (int p : ports.get(to)) {
                    if (random.nextDouble() < density) edges.add("  - {from: w" + from + ", to: w" + to + ", port: " + p + "}\n");
                }
            }
        }
        if (edges.isEmpty()) edges.add("  - {from: w0, to: w1, port: " + ports.get(1).getFirst() + "}\n");
        y.append("edges:\n");
        edges.forEach(y::append);
        if (random.nextBoolean()) {
            int to = random.nextInt(workloads);
            y.append("ingress:\n  - name: gw\n    namespace: gateways\n    serviceAccount: gateway\n    to: w").append(to)
                    .append("\n    port: ").append(ports.get(to).getFirst()).append('\n');
        }
        if (random.nextBoolean()) {
            y.append("egress:\n");
            int entries = 1 + random.nextInt(3);
            for (int e = 0; e < entries; e++) {
                y.append("  - name: e").append(e).append('\n');
                y.append(random.nextBoolean() ? "    dnsName: host" + e + ".example.com\n" : "    cidr: 198.51.100." + (e * 16) + "/28\n");
                y.append("    ports: [{port: ").append(random.nextBoolean() ? 443 : 1 + random.nextInt(65535))
                        .append(random.nextInt(4) == 0 ? ", protocol: UDP" : "").append("}]\n");
                y.append("    from: [w").append(random.nextInt(workloads)).append("]\n");
                if (random.nextInt(4) == 0) y.append("    enabled: false\n");
            }
        }
        return y.toString();
    }
}
