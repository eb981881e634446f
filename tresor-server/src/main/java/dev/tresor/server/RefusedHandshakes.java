package dev.tresor.server;

import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditUnavailableException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;

/**
 * Audits refused TLS handshakes without letting a flood of them fill the audit disk.
 *
 * <p>Anyone who can reach the port can make a handshake fail, and each used to write its own
 * audit record (~400 B): a few thousand a second fill a disk, after which the API fails closed
 * for everyone (no request is served that cannot be audited). Every refusal is still counted in
 * {@code tresor_tls_handshake_failures_total}; per source address, the first
 * {@link Limits#auditedPerSource} of each window are audited one by one, and the rest as one
 * {@code tls.handshake.suppressed} record per source and window, with their count and last cause.
 * At most {@link Limits#trackedSources} sources are tracked at once; refusals from further sources
 * share one overflow entry (source {@code *}), so memory stays bounded under a spoofed-address flood.
 */
final class RefusedHandshakes implements SslHandshakeListener, AutoCloseable {

    static final String OVERFLOW_SOURCE = "*";

    /** How much is audited one by one, per source and window. */
    record Limits(int auditedPerSource, Duration window, int trackedSources) {
        static final Limits DEFAULT = new Limits(10, Duration.ofMinutes(1), 10_000);

        Limits {
            if (auditedPerSource < 1 || window.isNegative() || window.isZero() || trackedSources < 1) {
                throw new IllegalArgumentException("handshake audit limits must be positive");
            }
        }
    }

    private static final class Window {
        final Instant start;
        int audited;
        long suppressed;
        String lastCause;

        Window(Instant start) {
            this.start = start;
        }
    }

    private final AuditLog audit;
    private final TresorMetrics metrics;
    private final Clock clock;
    private final Limits limits;
    private final Map<String, Window> windows = new LinkedHashMap<>();
    private final ScheduledExecutorService sweeper;

    RefusedHandshakes(AuditLog audit, TresorMetrics metrics, Clock clock, Limits limits) {
        this.audit = audit;
        this.metrics = metrics;
        this.clock = clock;
        this.limits = limits;
        this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("tresor-handshake-audit").factory());
        long period = limits.window().toMillis();
        sweeper.scheduleAtFixedRate(() -> sweep(false), period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handshakeFailed(Event event, Throwable failure) {
        String source = event.getEndPoint().getRemoteSocketAddress() instanceof InetSocketAddress a
                ? a.getAddress().getHostAddress() : String.valueOf(event.getEndPoint().getRemoteSocketAddress());
        refused(source, failure.getClass().getSimpleName() + ": " + failure.getMessage());
    }

    /** One refused handshake from {@code source}. */
    void refused(String source, String cause) {
        metrics.tlsHandshakeFailure();
        Instant now = clock.instant();
        List<AuditEvent> records = new ArrayList<>(2);
        synchronized (windows) {
            String key = windows.containsKey(source) || windows.size() < limits.trackedSources() ? source : OVERFLOW_SOURCE;
            Window window = windows.get(key);
            if (window != null && ended(window, now)) {
                summary(key, window, now).ifPresent(records::add);
                window = null;
            }
            if (window == null) {
                window = new Window(now);
                windows.put(key, window);
            }
            if (window.audited < limits.auditedPerSource()) {
                window.audited++;
                records.add(new AuditEvent(now, null, null, "tls.handshake", null, null, "denied", 0, source, cause));
            } else {
                window.suppressed++;
                window.lastCause = cause;
            }
        }
        write(records); // outside the lock: a slow audit sink must not hold every other handshake
    }

    /** Writes the summaries of windows that have ended (all of them if {@code everything}) and forgets them. */
    void sweep(boolean everything) {
        Instant now = clock.instant();
        List<AuditEvent> records = new ArrayList<>();
        synchronized (windows) {
            for (Iterator<Map.Entry<String, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Window> entry = it.next();
                if (everything || ended(entry.getValue(), now)) {
                    summary(entry.getKey(), entry.getValue(), now).ifPresent(records::add);
                    it.remove();
                }
            }
        }
        write(records);
    }

    int trackedSources() {
        synchronized (windows) {
            return windows.size();
        }
    }

    private boolean ended(Window window, Instant now) {
        return !now.isBefore(window.start.plus(limits.window()));
    }

    private static java.util.Optional<AuditEvent> summary(String source, Window window, Instant now) {
        if (window.suppressed == 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new AuditEvent(now, null, null, "tls.handshake.suppressed", null, null, "denied", 0,
                source, window.suppressed + " further refused handshake(s) since " + window.start
                        + " not audited one by one; last: " + window.lastCause));
    }

    private void write(List<AuditEvent> records) {
        for (AuditEvent record : records) {
            try {
                audit.record(record);
            } catch (AuditUnavailableException e) {
                metrics.auditFailure();
            }
        }
    }

    /** Stops the sweeper and writes what is still held back. Call before the audit log closes. */
    @Override
    public void close() {
        sweeper.shutdownNow();
        sweep(true);
    }
}
