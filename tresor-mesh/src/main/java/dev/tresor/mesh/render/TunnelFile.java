package dev.tresor.mesh.render;

import java.util.List;

/**
 * The {@code tresor tunnel --config} file of one workload's host: the server tunnels in front of the
 * ports other workloads reach, then the client tunnels for the connections it opens.
 *
 * @param workload the topology's workload
 * @param identity its SPIFFE ID, which its certificate ({@code <workload>.crt}) must name
 * @param tunnels servers by port, then clients by destination and port
 * @param notes why something of the topology is not in the file (ingress entries), for the header
 */
public record TunnelFile(String workload, String identity, List<Tunnel> tunnels, List<String> notes) {

    public TunnelFile {
        tunnels = List.copyOf(tunnels);
        notes = List.copyOf(notes);
    }

    public String fileName() {
        return "tunnels-" + workload + ".yaml";
    }

    /**
     * One entry of {@code tunnels:}.
     *
     * @param server true for {@code mode: server} (peers go to {@code allow}), false for a client ({@code expect})
     * @param peers SPIFFE IDs, sorted and distinct
     * @param comment written above the entry: what it carries and for whom
     */
    public record Tunnel(String name, boolean server, String listen, String target, List<String> peers, String comment) {

        public Tunnel {
            peers = List.copyOf(peers);
        }
    }
}
