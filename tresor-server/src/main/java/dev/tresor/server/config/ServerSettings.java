package dev.tresor.server.config;

import dev.tresor.store.StoreConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The checked, resolved server configuration: absolute paths, parsed durations, bound addresses. */
public record ServerSettings(
        String trustDomain,
        InetSocketAddress apiAddress,
        InetSocketAddress managementAddress,
        Path tlsCert,
        Path tlsKey,
        Path clientCa,
        List<String> tlsProtocols,
        Path caCert,
        Path caKey,
        Duration caDefaultTtl,
        Duration caMaxTtl,
        StoreConfig store,
        String keyProviderKind,
        Path keyFile,
        Duration auditWriteTimeout,
        Duration auditFsyncInterval,
        List<Path> auditFiles,
        int maxBodyBytes,
        Duration idleTimeout,
        int maxConnections) {}
