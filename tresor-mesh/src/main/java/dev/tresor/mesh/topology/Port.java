package dev.tresor.mesh.topology;

/** A port and its protocol; the number is the pod's (target) port, which is what both policy layers match. */
public record Port(int number, Protocol protocol) implements Comparable<Port> {

    public Port {
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException("port " + number + " out of range 1-65535");
        }
        java.util.Objects.requireNonNull(protocol, "protocol");
    }

    public static Port tcp(int number) {
        return new Port(number, Protocol.TCP);
    }

    @Override
    public int compareTo(Port other) {
        int byNumber = Integer.compare(number, other.number);
        return byNumber != 0 ? byNumber : protocol.compareTo(other.protocol);
    }

    @Override
    public String toString() {
        return number + "/" + protocol;
    }
}
