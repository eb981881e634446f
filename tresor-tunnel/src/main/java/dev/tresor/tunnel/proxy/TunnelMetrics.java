package dev.tresor.tunnel.proxy;

import dev.tresor.tunnel.tls.Refusal;
import dev.tresor.tunnel.tls.ReloadListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meters of one tunnel, all tagged {@code tunnel=<name>}:
 * {@code tresor_tunnel_connections_open}, {@code tresor_tunnel_connections_accepted_total},
 * {@code tresor_tunnel_connections_refused_total{reason}}, {@code tresor_tunnel_bytes_total{direction}}
 * ({@code in}: from the accepting side towards the target, {@code out}: back),
 * {@code tresor_tunnel_reloads_total{file,result}}. Also the reload log lines.
 */
public final class TunnelMetrics implements ReloadListener {

    private static final Logger LOG = LoggerFactory.getLogger(TunnelMetrics.class);

    private final String tunnel;
    private final MeterRegistry registry;
    private final AtomicInteger open = new AtomicInteger();
    private final Counter accepted;
    private final Map<Refusal, Counter> refused = new EnumMap<>(Refusal.class);
    private final Counter bytesIn;
    private final Counter bytesOut;

    public TunnelMetrics(String tunnel, MeterRegistry registry) {
        this.tunnel = tunnel;
        this.registry = registry;
        Gauge.builder("tresor.tunnel.connections.open", open, AtomicInteger::get).tag("tunnel", tunnel)
                .description("connections being forwarded now").register(registry);
        accepted = Counter.builder("tresor.tunnel.connections.accepted").tag("tunnel", tunnel)
                .description("connections authenticated and forwarded").register(registry);
        for (Refusal reason : Refusal.values()) {
            refused.put(reason, Counter.builder("tresor.tunnel.connections.refused").tag("tunnel", tunnel)
                    .tag("reason", reason.label()).description("connections refused, by reason").register(registry));
        }
        bytesIn = Counter.builder("tresor.tunnel.bytes").tag("tunnel", tunnel).tag("direction", "in")
                .baseUnit("bytes").description("bytes forwarded towards the target").register(registry);
        bytesOut = Counter.builder("tresor.tunnel.bytes").tag("tunnel", tunnel).tag("direction", "out")
                .baseUnit("bytes").description("bytes forwarded back from the target").register(registry);
    }

    void opened() {
        open.incrementAndGet();
        accepted.increment();
    }

    void closed() {
        open.decrementAndGet();
    }

    void refused(Refusal reason) {
        refused.get(reason).increment();
    }

    void bytesIn(long n) {
        bytesIn.increment(n);
    }

    void bytesOut(long n) {
        bytesOut.increment(n);
    }

    public int open() {
        return open.get();
    }

    public double refusedCount(Refusal reason) {
        return refused.get(reason).count();
    }

    /** Bytes forwarded towards the target so far. */
    public double bytesInCount() {
        return bytesIn.count();
    }

    public double acceptedCount() {
        return accepted.count();
    }

    /** How many reloads of {@code what} ("certificate", "trust bundle", "crl") ended with {@code result} ("ok", "failed"). */
    public double reloadCount(String what, String result) {
        return reloadCounter(what, result).count();
    }

    @Override
    public void reloaded(String what, String detail) {
        LOG.info("tunnel {}: reloaded {}: {}", tunnel, what, detail);
        reloadCounter(what, "ok").increment();
    }

    @Override
    public void reloadFailed(String what, String error) {
        LOG.warn("tunnel {}: {} not reloaded: {}", tunnel, what, error);
        reloadCounter(what, "failed").increment();
    }

    private Counter reloadCounter(String what, String result) {
        return Counter.builder("tresor.tunnel.reloads").tag("tunnel", tunnel).tag("file", what.replace(' ', '_'))
                .tag("result", result).description("reloads of certificate, trust bundle and CRL files").register(registry);
    }
}
