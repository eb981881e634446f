package dev.tresor.tunnel.config;

import java.time.Duration;
import java.util.List;

/**
 * Everything one {@code tresor tunnel} process runs.
 *
 * @param management where {@code /healthz} and {@code /metrics} are served; null for none
 * @param drainTimeout how long SIGTERM waits for open connections before closing them
 * @param reloadInterval how often certificate, bundle and CRL files are checked for changes
 * @param threads which threads copy the bytes (see docs/tunnel.md, "I/O model")
 */
public record TunnelsConfig(HostPort management, Duration drainTimeout, Duration reloadInterval, Threads threads,
        List<TunnelSpec> tunnels) {

    /**
     * One platform thread per direction of each connection (the default), or virtual threads.
     * bench/results/tunnel.md: with platform threads a request through the pair cost 110 µs of CPU
     * at one client against 274 µs with virtual threads (each blocking read of a virtual thread
     * goes through the poller and a carrier hand-off), and matched stunnel4; at 50 clients the two
     * were within the noise. Virtual threads stay available for many thousands of mostly idle connections.
     */
    public enum Threads {
        VIRTUAL, PLATFORM;

        /** A thread-safe factory naming its threads {@code prefix-N}. */
        public java.util.concurrent.ThreadFactory factory(String prefix) {
            return (this == VIRTUAL ? Thread.ofVirtual() : Thread.ofPlatform().daemon().stackSize(256 * 1024))
                    .name(prefix + "-", 0).factory();
        }
    }

    public TunnelsConfig(HostPort management, Duration drainTimeout, Duration reloadInterval, List<TunnelSpec> tunnels) {
        this(management, drainTimeout, reloadInterval, Threads.PLATFORM, tunnels);
    }

    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(20);
    public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(1);

    public TunnelsConfig {
        tunnels = List.copyOf(tunnels);
        java.util.Objects.requireNonNull(threads, "threads");
        if (tunnels.isEmpty()) {
            throw new IllegalArgumentException("tunnels: at least one tunnel is needed");
        }
        long names = tunnels.stream().map(TunnelSpec::name).distinct().count();
        if (names != tunnels.size()) {
            throw new IllegalArgumentException("tunnels: two tunnels have the same name; names label the metrics");
        }
    }
}
