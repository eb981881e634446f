package dev.tresor.tunnel.config;

import java.time.Duration;
import java.util.List;

/**
 * Everything one {@code tresor tunnel} process runs.
 *
 * @param management where {@code /healthz} and {@code /metrics} are served; null for none
 * @param drainTimeout how long SIGTERM waits for open connections before closing them
 * @param reloadInterval how often certificate, bundle and CRL files are checked for changes
 */
public record TunnelsConfig(HostPort management, Duration drainTimeout, Duration reloadInterval, List<TunnelSpec> tunnels) {

    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);
    public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(1);

    public TunnelsConfig {
        tunnels = List.copyOf(tunnels);
        if (tunnels.isEmpty()) {
            throw new IllegalArgumentException("tunnels: at least one tunnel is needed");
        }
        long names = tunnels.stream().map(TunnelSpec::name).distinct().count();
        if (names != tunnels.size()) {
            throw new IllegalArgumentException("tunnels: two tunnels have the same name; names label the metrics");
        }
    }
}
