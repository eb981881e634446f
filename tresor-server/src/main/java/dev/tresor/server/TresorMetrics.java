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

    /** A write-latency histogram for a best-effort audit copy (sub-millisecond to seconds). */
    public dev.tresor.audit.BestEffortSink.WriteTimer auditCopyTimer(String sink) {
        Timer timer = Timer.builder("tresor.audit.sink.write").description("Writes to a best-effort audit sink")
                .tag("sink", sink).publishPercentileHistogram(true)
                .minimumExpectedValue(java.time.Duration.ofNanos(10_000))
                .maximumExpectedValue(java.time.Duration.ofSeconds(10)).register(registry);
        return nanos -> timer.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Written, failed and dropped records and the buffer depth of a best-effort audit copy. */
    public void auditCopy(dev.tresor.audit.BestEffortSink copy) {
        io.micrometer.core.instrument.FunctionCounter.builder("tresor.audit.sink.written", copy, c -> c.written())
                .description("Records a best-effort audit sink took").tag("sink", copy.name()).register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("tresor.audit.sink.failed", copy, c -> c.failed())
                .description("Failed writes to a best-effort audit sink (each retried)").tag("sink", copy.name())
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("tresor.audit.sink.dropped", copy, c -> c.dropped())
                .description("Records a best-effort audit sink dropped (its buffer was full)").tag("sink", copy.name())
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("tresor.audit.sink.queue", copy, c -> c.queueDepth())
                .description("Records waiting for a best-effort audit sink").tag("sink", copy.name())
                .baseUnit("records").register(registry);
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
