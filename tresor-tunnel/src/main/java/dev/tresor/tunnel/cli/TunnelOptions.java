package dev.tresor.tunnel.cli;

import dev.tresor.model.Durations;
import dev.tresor.tunnel.config.HostPort;
import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.config.TunnelsConfig;
import dev.tresor.tunnel.tls.AllowList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Option;

/** The flags {@code tunnel server} and {@code tunnel client} share. */
final class TunnelOptions {

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "where to accept connections")
    String listen;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "where to forward them")
    String target;

    @Option(names = "--cert", paramLabel = "FILE",
            description = "this tunnel's certificate chain (PEM, leaf first); reloaded when it changes")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "its private key (PEM)")
    Path key;

    @Option(names = "--identity", paramLabel = "DIR",
            description = "instead of --cert/--key: a tresor cert join --profile workload folder; the tunnel renews "
                    + "it at half-life itself")
    Path identity;

    @Option(names = "--failover", paramLabel = "URL", split = ",",
            description = "with --identity: further Tresor nodes to renew through when the one the folder records "
                    + "does not answer (https://HOST:PORT, repeat or comma-separate)")
    List<String> failover = List.of();

    @Option(names = "--ca-bundle", paramLabel = "FILE",
            description = "CA certificates peers must chain to (PEM); reloaded when it changes (default with "
                    + "--identity: its ca.pem)")
    Path caBundle;

    @Option(names = "--crl", paramLabel = "FILE", description = "revoked certificates (PEM or DER CRL); reloaded when it changes")
    Path crl;

    @Option(names = "--name", paramLabel = "NAME", description = "label in logs and metrics (default: server or client)")
    String name;

    @Option(names = "--management", paramLabel = "HOST:PORT", description = "serve /healthz and /metrics here (plain HTTP)")
    String management;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "connecting to the target (default: ${DEFAULT-VALUE})")
    String connectTimeout;

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "the TLS handshake (default: ${DEFAULT-VALUE})")
    String handshakeTimeout;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "1h",
            description = "close a connection with no bytes either way for this long (default: ${DEFAULT-VALUE})")
    String idleTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "1000",
            description = "refuse connections beyond this many open ones (default: ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "20s",
            description = "on SIGTERM, how long open connections may finish (default: ${DEFAULT-VALUE})")
    String drainTimeout;

    @Option(names = "--reload-interval", paramLabel = "DURATION", defaultValue = "1s",
            description = "how often certificate, bundle and CRL files are checked (default: ${DEFAULT-VALUE})")
    String reloadInterval;

    @Option(names = "--threads", paramLabel = "virtual|platform", defaultValue = "platform",
            description = "which threads copy the bytes (default: ${DEFAULT-VALUE}; see docs/tunnel.md, I/O model)")
    String threads;

    /** @throws IllegalArgumentException naming the flag */
    TunnelsConfig toConfig(Mode mode, String peersFlag, List<String> peers) {
        String tunnelName = name != null ? name : mode.name().toLowerCase();
        if (!tunnelName.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("--name '" + tunnelName + "' may only contain [A-Za-z0-9._-] (1-64 characters)");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("--max-connections must be at least 1");
        }
        AllowList allow = AllowList.parse(peersFlag, peers);
        if (identity != null && (cert != null || key != null)) {
            throw new IllegalArgumentException("--identity: give either --identity DIR (renewed by the tunnel) or --cert and "
                    + "--key (renewed by something else), not both");
        }
        if (identity == null && (cert == null || key == null || caBundle == null)) {
            throw new IllegalArgumentException("--cert, --key and --ca-bundle are required (or --identity DIR, made with "
                    + "tresor cert join --profile workload --out DIR)");
        }
        if (identity != null && !Files.isDirectory(identity)) {
            throw new IllegalArgumentException("--identity: " + identity + " is not a folder; make it with tresor cert join "
                    + "--profile workload --out " + identity);
        }
        if (identity == null && !failover.isEmpty()) {
            throw new IllegalArgumentException("--failover: only a tunnel with --identity DIR renews through Tresor");
        }
        Path dir = identity == null ? null : identity.toAbsolutePath().normalize();
        TunnelSpec spec = new TunnelSpec(tunnelName, mode, HostPort.parse("--listen", listen),
                HostPort.parse("--target", target), allow,
                dir == null ? file("--cert", cert) : dir.resolve("cert.pem"),
                dir == null ? file("--key", key) : dir.resolve("key.pem"),
                dir != null && caBundle == null ? dir.resolve("ca.pem") : file("--ca-bundle", caBundle),
                crl == null ? null : file("--crl", crl),
                positive("--connect-timeout", connectTimeout), positive("--handshake-timeout", handshakeTimeout),
                positive("--idle-timeout", idleTimeout), maxConnections, dir,
                failover.isEmpty() ? List.of() : dev.tresor.tunnel.config.ConfigFile.servers("--failover", failover));
        TunnelsConfig.Threads model = switch (threads.toLowerCase(java.util.Locale.ROOT)) {
            case "virtual" -> TunnelsConfig.Threads.VIRTUAL;
            case "platform" -> TunnelsConfig.Threads.PLATFORM;
            default -> throw new IllegalArgumentException("--threads '" + threads + "' is not 'virtual' or 'platform'");
        };
        return new TunnelsConfig(management == null ? null : HostPort.parse("--management", management),
                Durations.parse("--drain-timeout", drainTimeout), positive("--reload-interval", reloadInterval), model,
                List.of(spec));
    }

    private static Path file(String flag, Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(flag + ": file " + path + " does not exist");
        }
        return path.toAbsolutePath().normalize();
    }

    private static Duration positive(String flag, String text) {
        Duration d = Durations.parse(flag, text);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(flag + " must be positive");
        }
        return d;
    }
}
