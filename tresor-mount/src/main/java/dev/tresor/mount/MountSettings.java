package dev.tresor.mount;

import dev.tresor.client.api.ServerAddresses;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * What a mount needs, already decided by its caller (the CLI resolves flags, environment and
 * profile; tests build it directly), so this module knows nothing of how settings are found.
 *
 * @param servers        the cluster's nodes, {@code https://host:port[/prefix]} each, in the order they are tried: every
 *                       call (listing, change feed, value read) goes to the node that answered last and moves to
 *                       the next on a connection failure or a 503 (SPEC §3.6)
 * @param tls            presents the mounting client's certificate and trusts the server's CA
 * @param mountPoint     an existing, empty folder
 * @param requestTimeout bound on every API call made for a file operation: past it the operation fails with EIO
 *                       instead of leaving {@code cat} hanging
 * @param pollInterval   how often the tree is re-listed when the server has no change feed (404 on /v1/watch)
 * @param watchWait      the long-poll's {@code wait} when it has one
 * @param libfuse        the libfuse3 shared object (Debian's fuse3 ships only the versioned .so.3)
 */
public record MountSettings(ServerAddresses servers, SSLContext tls, Path mountPoint, Duration requestTimeout, Duration pollInterval,
                            Duration watchWait, Path libfuse) {

    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_WATCH_WAIT = Duration.ofSeconds(30);
    public static final Path DEFAULT_LIBFUSE = Path.of("/usr/lib/x86_64-linux-gnu/libfuse3.so.3");

    public MountSettings {
        Objects.requireNonNull(servers, "servers");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(mountPoint, "mountPoint");
        mountPoint = mountPoint.toAbsolutePath().normalize();
        requestTimeout = requestTimeout == null ? DEFAULT_REQUEST_TIMEOUT : requestTimeout;
        pollInterval = pollInterval == null ? DEFAULT_POLL_INTERVAL : pollInterval;
        watchWait = watchWait == null ? DEFAULT_WATCH_WAIT : watchWait;
        libfuse = libfuse == null ? DEFAULT_LIBFUSE : libfuse;
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("the request timeout must be positive");
        }
    }

    /** One server: a cluster of one node. */
    public MountSettings(URI server, SSLContext tls, Path mountPoint, Duration requestTimeout, Duration pollInterval,
                         Duration watchWait, Path libfuse) {
        this(ServerAddresses.of(server), tls, mountPoint, requestTimeout, pollInterval, watchWait, libfuse);
    }

    public static MountSettings of(URI server, SSLContext tls, Path mountPoint) {
        return of(ServerAddresses.of(server), tls, mountPoint);
    }

    public static MountSettings of(ServerAddresses servers, SSLContext tls, Path mountPoint) {
        return new MountSettings(servers, tls, mountPoint, null, null, null, null);
    }

    /** The first node, for messages about the mount as a whole. */
    public URI server() {
        return servers.first();
    }

    public MountSettings withRequestTimeout(Duration timeout) {
        return new MountSettings(servers, tls, mountPoint, timeout, pollInterval, watchWait, libfuse);
    }

    public MountSettings withMountPoint(Path dir) {
        return new MountSettings(servers, tls, dir, requestTimeout, pollInterval, watchWait, libfuse);
    }

    public MountSettings withPollInterval(Duration interval) {
        return new MountSettings(servers, tls, mountPoint, requestTimeout, interval, watchWait, libfuse);
    }
}
