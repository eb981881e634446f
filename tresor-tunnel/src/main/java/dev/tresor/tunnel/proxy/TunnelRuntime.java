package dev.tresor.tunnel.proxy;

import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.config.TunnelsConfig;
import dev.tresor.tunnel.tls.CertificateSource;
import dev.tresor.tunnel.tls.FileCertificateSource;
import dev.tresor.tunnel.tls.FilePoller;
import dev.tresor.tunnel.tls.PeerVerifier;
import dev.tresor.tunnel.tls.RevocationList;
import dev.tresor.tunnel.tls.TlsContext;
import dev.tresor.tunnel.tls.TrustBundle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All tunnels of one process, their file watcher, metrics and management port. Built from a
 * {@link TunnelsConfig}; {@link #drain()} is what SIGTERM runs.
 */
public final class TunnelRuntime implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TunnelRuntime.class);

    private final TunnelsConfig config;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FilePoller poller;
    private final List<Tunnel> tunnels = new ArrayList<>();
    private final List<CertificateSource> sources = new ArrayList<>();
    private ManagementServer management;
    private volatile boolean draining;

    /** Loads every certificate, bundle and CRL (failing with a message naming the file), binds nothing yet. */
    public TunnelRuntime(TunnelsConfig config) {
        this(config, spec -> null);
    }

    /**
     * As {@link #TunnelRuntime(TunnelsConfig)}, with a way to supply a tunnel's certificate other
     * than its files (the managed mode); {@code sources} returns null for "use the files".
     */
    public TunnelRuntime(TunnelsConfig config, Function<TunnelSpec, CertificateSource> sources) {
        this.config = config;
        this.poller = new FilePoller(config.reloadInterval());
        try {
            for (TunnelSpec spec : config.tunnels()) {
                TunnelMetrics metrics = new TunnelMetrics(spec.name(), registry);
                CertificateSource source = sources.apply(spec);
                if (source == null) {
                    source = spec.identity() != null
                            ? dev.tresor.tunnel.tls.ManagedCertificateSource.open("tunnel " + spec.name() + " identity", spec.identity(),
                                    spec.failover())
                            : new FileCertificateSource(spec.cert(), spec.key(), poller, metrics);
                }
                this.sources.add(source);
                TrustBundle bundle = new TrustBundle(spec.caBundle(), poller, metrics);
                RevocationList crl = spec.crl() == null ? null : new RevocationList(spec.crl(), bundle, poller, metrics);
                PeerVerifier verifier = new PeerVerifier(spec.mode() == Mode.SERVER ? PeerVerifier.Peer.CLIENT
                        : PeerVerifier.Peer.SERVER, bundle, crl, spec.peers(), Clock.systemUTC());
                TlsContext tls = new TlsContext(source, verifier);
                // A new bundle or CRL must apply to the next connection, not to a resumed old session.
                poller.watch(spec.crl() == null ? List.of(spec.caBundle()) : List.of(spec.caBundle(), spec.crl()),
                        tls::forgetSessions);
                Tunnel tunnel = new Tunnel(spec, tls, source, metrics, config.threads().factory("tunnel-" + spec.name()));
                if (crl != null) {
                    crl.onReload(() -> tunnel.closeRevoked(crl::isRevoked));
                }
                tunnels.add(tunnel);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Binds every tunnel and the management port. */
    public void start() throws IOException {
        try {
            for (Tunnel tunnel : tunnels) {
                tunnel.start();
            }
            if (config.management() != null) {
                management = new ManagementServer(config.management(), registry, this::healthy);
                LOG.info("management: /healthz and /metrics on {}:{}", config.management().host(), management.port());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    public boolean healthy() {
        return !draining && tunnels.stream().allMatch(Tunnel::isAccepting);
    }

    public List<Tunnel> tunnels() {
        return List.copyOf(tunnels);
    }

    public Tunnel tunnel(String name) {
        return tunnels.stream().filter(t -> t.spec().name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tunnel named " + name));
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public int managementPort() {
        return management == null ? -1 : management.port();
    }

    /**
     * Stops accepting on every tunnel, waits up to the drain timeout for open connections to end,
     * closes what is left. Returns the number of connections closed at the deadline.
     */
    public int drain() throws InterruptedException {
        draining = true;
        tunnels.forEach(Tunnel::stopAccepting);
        int open = tunnels.stream().mapToInt(t -> t.connections().size()).sum();
        Duration timeout = config.drainTimeout();
        LOG.info("draining: no new connections; waiting up to {} ms for {} open connection(s)", timeout.toMillis(), open);
        Instant deadline = Instant.now().plus(timeout);
        int left = 0;
        for (Tunnel tunnel : tunnels) {
            tunnel.awaitDrained(deadline);
            left += tunnel.connections().size();
        }
        if (left > 0) {
            LOG.warn("drain timeout ({} ms) reached: closing {} connection(s) still open", timeout.toMillis(), left);
        } else {
            LOG.info("drained: every connection ended");
        }
        close();
        return left;
    }

    @Override
    public void close() {
        for (Tunnel tunnel : tunnels) {
            tunnel.close();
        }
        if (management != null) {
            management.close();
        }
        sources.forEach(CertificateSource::close);
        poller.close();
    }
}
