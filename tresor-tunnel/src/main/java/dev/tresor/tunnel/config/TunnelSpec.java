package dev.tresor.tunnel.config;

import dev.tresor.tunnel.tls.AllowList;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One tunnel, however it was configured (flags or one entry of a config file).
 *
 * @param peers for a server the identities allowed to connect ({@code --allow}); for a client
 *     the identities the server must have ({@code --expect})
 * @param crl may be null
 * @param identity a {@code tresor cert join} folder the tunnel renews itself (the managed mode), or
 *     null for certificate files renewed by something else; with it, {@code cert}/{@code key} are
 *     the folder's stable files
 * @param failover with {@code identity}: further Tresor nodes to renew through, tried in order after
 *     the server recorded in the folder when it does not answer; empty otherwise
 */
public record TunnelSpec(
        String name,
        Mode mode,
        HostPort listen,
        HostPort target,
        AllowList peers,
        Path cert,
        Path key,
        Path caBundle,
        Path crl,
        Duration connectTimeout,
        Duration handshakeTimeout,
        Duration idleTimeout,
        int maxConnections,
        Path identity,
        List<URI> failover) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;

    public TunnelSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(caBundle, "caBundle");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        failover = List.copyOf(failover);
        if (!failover.isEmpty() && identity == null) {
            throw new IllegalArgumentException("failover: only a tunnel with an identity folder renews through Tresor");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1");
        }
    }
}
