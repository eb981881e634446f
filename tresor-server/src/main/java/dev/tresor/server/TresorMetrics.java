package dev.tresor.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Prometheus metrics: request counts and latency by action and status, audit failures, tamper detections. */
public final class TresorMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter auditFailures;
    private final Counter integrityViolations;
    private final Counter tlsHandshakeFailures;

    public TresorMetrics() {
        auditFailures = Counter.builder("tresor.audit.failures")
                .description("Requests refused because no audit sink could record them in time").register(registry);
        integrityViolations = Counter.builder("tresor.integrity.violations")
                .description("Rows that failed their integrity check (tampering detected)").register(registry);
        tlsHandshakeFailures = Counter.builder("tresor.tls.handshake.failures")
                .description("TLS handshakes refused (no, unknown, expired or foreign client certificate; old protocol)")
                .register(registry);
    }

    /** Actions and statuses form a small fixed set; looking a timer up beats building one per request. */
    private record RequestKey(String action, int status) {}

    private final ConcurrentHashMap<RequestKey, Timer> requestTimers = new ConcurrentHashMap<>();

    public void request(String action, int status, long nanos) {
        requestTimers.computeIfAbsent(new RequestKey(action, status), key -> Timer.builder("tresor.http.requests")
                        .description("API requests by action and HTTP status")
                        .tag("action", key.action())
                        .tag("status", Integer.toString(key.status()))
                        .publishPercentileHistogram(false)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void auditFailure() {
        auditFailures.increment();
    }

    public void integrityViolation() {
        integrityViolations.increment();
    }

    public void tlsHandshakeFailure() {
        tlsHandshakeFailures.increment();
    }

    public double integrityViolations() {
        return integrityViolations.count();
    }

    public String scrape() {
        return registry.scrape();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }
}
