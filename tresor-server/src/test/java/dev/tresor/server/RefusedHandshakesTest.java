package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditSink;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Issue 22, finding 7: a flood of refused handshakes is counted in full but audited in bounded space. */
class RefusedHandshakesTest {

    private final ConcurrentLinkedQueue<AuditEvent> written = new ConcurrentLinkedQueue<>();
    private final AuditLog audit = new AuditLog(List.of(new AuditSink() {
        @Override
        public void append(AuditEvent event) {
            written.add(event);
        }

        @Override
        public String name() {
            return "memory";
        }

        @Override
        public void close() {}
    }), Duration.ofSeconds(5));
    private final TresorMetrics metrics = new TresorMetrics();
    private final TestClock clock = new TestClock();
    // A window longer than the test, so that only the test's clock moves it (the sweeper never fires).
    private final RefusedHandshakes refused = new RefusedHandshakes(audit, metrics, clock,
            new RefusedHandshakes.Limits(3, Duration.ofHours(1), 4));

    @AfterEach
    void close() {
        refused.close();
        audit.close();
    }

    @Test
    void aFloodFromOneSourceWritesItsFirstRecordsAndOneSummary() {
        for (int i = 0; i < 1000; i++) {
            refused.refused("192.0.2.7", "SSLHandshakeException: Empty client certificate chain");
        }
        assertThat(handshakeFailures()).isEqualTo(1000);
        assertThat(actions()).containsExactly("tls.handshake", "tls.handshake", "tls.handshake");

        refused.close();
        AuditEvent summary = written.stream().filter(e -> e.action().equals("tls.handshake.suppressed")).findFirst()
                .orElseThrow();
        assertThat(summary.source()).isEqualTo("192.0.2.7");
        assertThat(summary.detail()).startsWith("997 further refused handshake(s)")
                .contains("Empty client certificate chain");
        assertThat(written).hasSize(4);
    }

    @Test
    void eachWindowStartsOverAndSummarisesTheLastOne() {
        for (int i = 0; i < 5; i++) {
            refused.refused("192.0.2.7", "cause " + i);
        }
        clock.advance(Duration.ofHours(1));
        refused.refused("192.0.2.7", "after the window");
        assertThat(actions()).containsExactly("tls.handshake", "tls.handshake", "tls.handshake",
                "tls.handshake.suppressed", "tls.handshake");
        assertThat(written.stream().filter(e -> e.action().endsWith("suppressed")).findFirst().orElseThrow().detail())
                .startsWith("2 further").endsWith("cause 4");
        // A sweep writes nothing for a window that has not ended, and summarises one that has.
        refused.sweep(false);
        assertThat(written).hasSize(5);
    }

    @Test
    void manySourcesShareOneOverflowEntrySoMemoryStaysBounded() {
        for (int source = 0; source < 10_000; source++) {
            refused.refused("198.51.100." + (source % 250) + "/" + source, "spoofed");
        }
        assertThat(refused.trackedSources()).isEqualTo(4 + 1); // and the overflow entry
        assertThat(handshakeFailures()).isEqualTo(10_000);
        // Four tracked sources audit one record each; the overflow entry audits three, then summarises.
        assertThat(written.stream().filter(e -> e.action().equals("tls.handshake"))).hasSize(4 + 3);
        refused.close();
        assertThat(written.stream().filter(e -> e.action().equals("tls.handshake.suppressed")))
                .singleElement().satisfies(e -> {
                    assertThat(e.source()).isEqualTo(RefusedHandshakes.OVERFLOW_SOURCE);
                    assertThat(e.detail()).startsWith((10_000 - 4 - 3) + " further");
                });
    }

    private List<String> actions() {
        return written.stream().map(AuditEvent::action).toList();
    }

    private double handshakeFailures() {
        return metrics.registry().get("tresor.tls.handshake.failures").counter().count();
    }
}
