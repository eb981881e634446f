package dev.tresor.mesh.topology;

import java.util.List;

/**
 * A destination outside the cluster some workloads may reach: exactly one of {@code dnsName} and
 * {@code cidr} is set.
 *
 * @param name    a label for the entry
 * @param dnsName a DNS name (OVN resolves it; {@code *.} prefix allowed), or null
 * @param cidr    an IPv4 CIDR, or null
 * @param ports   the ports allowed to it
 * @param from    the workloads that may reach it
 * @param enabled false keeps the entry documented in the file but renders nothing (an optional endpoint)
 */
public record Egress(String name, String dnsName, String cidr, List<Port> ports, List<String> from, boolean enabled) {

    public Egress {
        ports = List.copyOf(ports);
        from = List.copyOf(from);
    }

    public String destination() {
        return dnsName != null ? dnsName : cidr;
    }
}
