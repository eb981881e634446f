package dev.tresor.mesh.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.mesh.render.Mode;
import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyException;
import dev.tresor.mesh.topology.TopologyLoader;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Property: for random bounded topologies (200, each 2 to 6 workloads with 1 to 3 ports, any
 * subset of the possible edges, optional ingress and egress), rendering and then checking allows
 * exactly the topology's edges in every layer, with no problem reported. Seeded, so a failure
 * reproduces; the seed and the topology are in the message.
 */
class RenderCheckPropertyTest {

    private static final long SEED = 18;
    private static final int TOPOLOGIES = 200;
    private static final int MAX_WORKLOADS = 6;

    private final CheckFixture fixture = new CheckFixture();

    @Test
    void renderedTopologiesCheckToExactlyTheirEdges() {
        Random random = new Random(SEED);
        int edgesSeen = 0;
        int withEgress = 0;
        int unenforceable = 0;
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
                CheckReport report = fixture.check(topology, fixture.render(topology, mode), layers);
                String context = "seed " + SEED + ", topology " + n + ", mode " + mode + ":\n" + yaml + "\n" + report.render();
                assertThat(report.problems()).as(context).isEmpty();
                assertThat(report.allowedPairs()).as(context).isEqualTo(expected);
                // Every intended egress is allowed; nothing else leaves.
                assertThat(report.egress()).as(context).allSatisfy(r -> assertThat(r.allowed()).isEqualTo(r.intended()));
            }
        }
        // The generator must actually exercise the checker, not produce trivial cases.
        assertThat(edgesSeen).isGreaterThan(TOPOLOGIES * 2);
        assertThat(withEgress).isGreaterThan(TOPOLOGIES / 3);
        assertThat(unenforceable).isLessThan(TOPOLOGIES);
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
