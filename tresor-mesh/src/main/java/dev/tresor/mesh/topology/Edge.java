package dev.tresor.mesh.topology;

/** {@code from} may open connections to {@code to} on {@code port} (a port {@code to} serves). */
public record Edge(String from, String to, Port port) implements Comparable<Edge> {

    @Override
    public int compareTo(Edge other) {
        int c = from.compareTo(other.from);
        if (c == 0) c = to.compareTo(other.to);
        return c != 0 ? c : port.compareTo(other.port);
    }
}
