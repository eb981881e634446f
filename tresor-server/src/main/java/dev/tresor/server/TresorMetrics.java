package dev.tresor.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus metrics: request latency histograms by action and status, audit write latency and
 * failures, tamper detections, certificate expiry, store pool use, rotation runs, the JVM and the
 * process, and {@code tresor_build_info}. Names follow Prometheus conventions (base units,
 * {@code _seconds}, {@code _total}).
 */
public final class TresorMetrics {

    /**
     * Latency buckets from 50 µs (a cached read) to 10 s (a stalled fsync): fixed bounds, so a p99
     * can be computed across servers with {@code histogram_quantile}, at ~17 series per timer.
     */
    private static final java.time.Duration[] LATENCY_BUCKETS = java.util.stream.Stream.of(
                    50_000L, 100_000L, 250_000L, 500_000L, 1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L,
                    50_000_000L, 100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 10_000_000_000L)
            .map(java.time.Duration::ofNanos).toArray(java.time.Duration[]::new);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter auditFailures;
    private final Counter integrityViolations;
    private final Counter tlsHandshakeFailures;

    private final Timer auditWrites;

    public TresorMetrics() {
        new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(registry);
        BuildInfo build = BuildInfo.load();
        io.micrometer.core.instrument.Gauge.builder("tresor.build.info", () -> 1)
                .description("The running build: version and commit as labels, value 1")
                .tag("version", build.version()).tag("commit", build.commit())
                .tag("java", Runtime.version().toString()).register(registry);
        auditWrites = Timer.builder("tresor.audit.write")
                .description("Time to hand a request's outcome record to every required audit sink")
                .serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
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
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    public void auditWrite(long nanos) {
        auditWrites.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Seconds until the certificate {@code current} gives expires (negative once it has): the server's, the CA's. */
    public void certificateExpiry(String which, java.util.function.Supplier<java.security.cert.X509Certificate> current) {
        io.micrometer.core.instrument.Gauge.builder("tresor.certificate.expiry",
                        () -> (current.get().getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0)
                .description("Seconds until the certificate expires (negative: expired)")
                .tag("certificate", which).baseUnit("seconds").register(registry);
    }

    private final Counter tlsReloadFailures = Counter.builder("tresor.tls.reload.failures")
            .description("Changed server certificate/key files that could not be used (the previous pair stays)")
            .register(registry);

    public void tlsReloadFailure() {
        tlsReloadFailures.increment();
    }

    /** Watchers waiting in {@code GET /v1/watch} on this node right now. */
    public void watchersWaiting(java.util.function.IntSupplier waiting) {
        io.micrometer.core.instrument.Gauge.builder("tresor.watch.waiting", waiting::getAsInt)
                .description("GET /v1/watch requests waiting for a change on this node").register(registry);
    }

    /** 1 while the certificate files on disk are not what the server serves (a broken renewal). */
    public void tlsFilesUnused(java.util.function.IntSupplier unused) {
        io.micrometer.core.instrument.Gauge.builder("tresor.tls.files.unused", unused::getAsInt)
                .description("1 while tls.cert/tls.key on disk are not the pair being served").register(registry);
    }

    /**
     * The client certificates this CA issued that are neither revoked nor expired: how many, how
     * many expire within a day, and seconds until the first of them expires (NaN: none). Read
     * from the store again only after a commit ({@code changeToken}) or 10 s, however often
     * Prometheus scrapes.
     */
    public void issuedCertificates(java.util.function.LongFunction<dev.tresor.store.StoreReader.IssuedCertExpiry> query,
                                   java.util.function.Supplier<Object> changeToken) {
        var memo = new IssuedMemo(query, changeToken);
        io.micrometer.core.instrument.Gauge.builder("tresor.issued.certificates", () -> memo.get().valid())
                .description("Issued client certificates neither revoked nor expired").register(registry);
        io.micrometer.core.instrument.Gauge.builder("tresor.issued.certificates.expiring", () -> memo.get().expiringSoon())
                .description("Of those, the ones expiring within 24 h").tag("within", "24h").register(registry);
        io.micrometer.core.instrument.Gauge.builder("tresor.issued.certificate.earliest.expiry", () -> {
                    var e = memo.get();
                    return e.valid() == 0 ? Double.NaN : (e.earliestNotAfter() - System.currentTimeMillis()) / 1000.0;
                }).description("Seconds until the first valid issued certificate expires (a workload whose renewal fails "
                        + "shows here first)").baseUnit("seconds").register(registry);
    }

    /** The issued-certificate figures, queried again after a commit or 10 s. */
    private static final class IssuedMemo {
        private final java.util.function.LongFunction<dev.tresor.store.StoreReader.IssuedCertExpiry> query;
        private final java.util.function.Supplier<Object> changeToken;
        private dev.tresor.store.StoreReader.IssuedCertExpiry last;
        private Object token;
        private long readAt;

        IssuedMemo(java.util.function.LongFunction<dev.tresor.store.StoreReader.IssuedCertExpiry> query,
                   java.util.function.Supplier<Object> changeToken) {
            this.query = query;
            this.changeToken = changeToken;
        }

        synchronized dev.tresor.store.StoreReader.IssuedCertExpiry get() {
            long now = System.currentTimeMillis();
            Object current = changeToken.get();
            if (last == null || now - readAt > 10_000 || !current.equals(token)) {
                token = current;
                try {
                    last = query.apply(now);
                } catch (RuntimeException e) {
                    // The store is down: /readyz says so; keep the last figures rather than fail the scrape.
                    if (last == null) {
                        last = new dev.tresor.store.StoreReader.IssuedCertExpiry(0, 0, 0);
                    }
                }
                readAt = now;
            }
            return last;
        }
    }

    /** Connections of the store's pool in use, idle, in total and waited for. */
    public void storePool(java.util.function.Supplier<java.util.Optional<dev.tresor.store.PoolUse>> use) {
        java.util.function.ToDoubleFunction<java.util.function.Function<dev.tresor.store.PoolUse, Integer>> of =
                field -> use.get().map(field).orElse(0);
        gauge("tresor.store.pool.active", "Store connections in use", of, dev.tresor.store.PoolUse::active);
        gauge("tresor.store.pool.idle", "Store connections open and idle", of, dev.tresor.store.PoolUse::idle);
        gauge("tresor.store.pool.total", "Store connections open", of, dev.tresor.store.PoolUse::total);
        gauge("tresor.store.pool.max", "Store connections the pool may open", of, dev.tresor.store.PoolUse::maximum);
        gauge("tresor.store.pool.pending", "Requests waiting for a store connection", of, dev.tresor.store.PoolUse::waiting);
    }

    /**
     * The store's notification connection (PostgreSQL): 1 while it listens, and how often it was
     * (re)opened. A node without it still sees every change (access is checked against the store
     * on each request; the change feed re-reads every {@code store.changeRecheck}), only later.
     */
    public void changeListener(java.util.function.Supplier<java.util.Optional<dev.tresor.store.ChangeListenerStatus>> status) {
        if (status.get().isEmpty()) {
            return;
        }
        io.micrometer.core.instrument.Gauge.builder("tresor.store.change.listener.connected",
                        () -> status.get().map(s -> s.connected() ? 1 : 0).orElse(0))
                .description("1 while this node LISTENs for other nodes' commits on PostgreSQL").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("tresor.store.change.listener.connects", status,
                        s -> s.get().map(dev.tresor.store.ChangeListenerStatus::connects).orElse(0L))
                .description("Times the LISTEN connection was opened (above 1: it was lost and re-opened)").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("tresor.store.change.notifications", status,
                        s -> s.get().map(dev.tresor.store.ChangeListenerStatus::notifications).orElse(0L))
                .description("Commit notifications received from any node").register(registry);
    }

    private void gauge(String name, String description,
                       java.util.function.ToDoubleFunction<java.util.function.Function<dev.tresor.store.PoolUse, Integer>> of,
                       java.util.function.Function<dev.tresor.store.PoolUse, Integer> field) {
        io.micrometer.core.instrument.Gauge.builder(name, () -> of.applyAsDouble(field)).description(description)
                .baseUnit("connections").register(registry);
    }

    /** One rotation run: by rotation and outcome (ok, failed), with its duration. */
    public void rotationRun(String rotation, boolean ok, java.time.Duration took) {
        Timer.builder("tresor.rotation.runs").description("Rotation runs by rotation and outcome")
                .tag("rotation", rotation).tag("outcome", ok ? "ok" : "failed")
                .serviceLevelObjectives(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(5),
                        java.time.Duration.ofSeconds(15), java.time.Duration.ofSeconds(60), java.time.Duration.ofMinutes(5))
                .register(registry).record(took);
    }

    /** The version and commit this server was built from (Maven-filtered build.properties). */
    record BuildInfo(String version, String commit) {
        static BuildInfo load() {
            java.util.Properties p = new java.util.Properties();
            try (var in = TresorMetrics.class.getResourceAsStream("build.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (java.io.IOException e) {
                // unknown below
            }
            return new BuildInfo(known(p.getProperty("version")), known(p.getProperty("commit")));
        }

        private static String known(String value) {
            return value == null || value.isBlank() || value.startsWith("${") ? "unknown" : value;
        }
    }

    /** A write-latency histogram for a best-effort audit copy (sub-millisecond to seconds). */
    public dev.tresor.audit.BestEffortSink.WriteTimer auditCopyTimer(String sink) {
        Timer timer = Timer.builder("tresor.audit.sink.write").description("Writes to a best-effort audit sink")
                .tag("sink", sink).serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
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
