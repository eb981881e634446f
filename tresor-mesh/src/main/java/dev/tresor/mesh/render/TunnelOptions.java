package dev.tresor.mesh.render;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How {@code render --tunnels} maps the topology onto hosts without a mesh.
 *
 * @param portOffset a server tunnel for port P listens on P + portOffset (the service itself keeps P on
 *     127.0.0.1, so the two cannot share a number)
 * @param clientPortOffset a client tunnel to D:P listens on 127.0.0.1:(P + clientPortOffset); 0 (the
 *     default) keeps the application's port, another value lets a workload reach a port number it
 *     serves itself
 * @param domain appended to a workload's name to make the host name client tunnels connect to
 *     ({@code mariadb} + {@code db.internal} is {@code mariadb.db.internal}); empty: the bare name
 */
public record TunnelOptions(int portOffset, int clientPortOffset, Optional<String> domain) {

    public static final int DEFAULT_PORT_OFFSET = 10000;

    private static final Pattern DNS_NAME = Pattern.compile(
            "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    public TunnelOptions {
        if (portOffset < 1 || portOffset > 65534) {
            throw new IllegalArgumentException("--tunnel-port-offset: " + portOffset + " is not in 1-65534");
        }
        if (clientPortOffset < 0 || clientPortOffset > 65534) {
            throw new IllegalArgumentException("--tunnel-client-port-offset: " + clientPortOffset + " is not in 0-65534");
        }
        domain.ifPresent(d -> {
            if (d.length() > 253 || !DNS_NAME.matcher(d).matches()) {
                throw new IllegalArgumentException("--tunnel-domain: '" + d + "' is not a lower-case DNS name");
            }
        });
    }

    public static TunnelOptions defaults() {
        return new TunnelOptions(DEFAULT_PORT_OFFSET, 0, Optional.empty());
    }

    String host(String workload) {
        return domain.map(d -> workload + "." + d).orElse(workload);
    }
}
