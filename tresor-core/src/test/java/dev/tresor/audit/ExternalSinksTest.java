package dev.tresor.audit;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.ca.TrustMaterial;
import dev.tresor.testkit.RsyslogServer;
import dev.tresor.testkit.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sinks that ship audit records to a SIEM: syslog over TLS (against a real rsyslogd), JSON lines, best effort. */
class ExternalSinksTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static AuditEvent event(int i, String outcome) {
        return new AuditEvent(Instant.parse("2026-12-06T10:00:00Z").plusSeconds(i), "req-" + i, "openemr", "secret.read",
                "openemr/mariadb", 3, outcome, 200, "10.0.0.7", i % 2 == 0 ? null : "détail \"quoted\"\nnewline");
    }

    private SyslogAuditSink syslog(RsyslogServer rsyslog, SSLContext tls, String host) {
        return new SyslogAuditSink(host, rsyslog.port(), tls, "tresor", "node-1", Duration.ofSeconds(5));
    }

    @Test
    void recordsReachARealRsyslogOverTlsAsRfc5424WithTheRecordAsJson() throws Exception {
        TestPki pki = TestPki.create("syslog-ca");
        try (RsyslogServer rsyslog = new RsyslogServer(dir.resolve("rsyslog"), pki)) {
            rsyslog.start();
            SSLContext tls = TrustMaterial.clientContext(pki.writeCaPem(dir.resolve("ca.pem")));
            try (SyslogAuditSink sink = syslog(rsyslog, tls, "localhost")) {
                for (int i = 0; i < 20; i++) {
                    sink.append(event(i, i == 7 ? "tamper" : "allowed"));
                }
            }
            List<String> lines = rsyslog.awaitLines(20);
            assertThat(lines).hasSize(20);
            // facility 13 (log audit): info = 110, a tampering outcome = critical (106)
            assertThat(lines.getFirst()).startsWith("110 tresor secret.read {");
            assertThat(lines.get(7)).startsWith("106 tresor secret.read {");
            // rsyslog escapes control characters in %msg% (the newline of record 1's detail) as #012
            JsonNode first = JSON.readTree(lines.getFirst().substring(lines.getFirst().indexOf('{')));
            assertThat(first.get("requestId").asText()).isEqualTo("req-0");
            assertThat(first.get("secret").asText()).isEqualTo("openemr/mariadb");
            assertThat(first.get("version").asInt()).isEqualTo(3);
            assertThat(first.get("time").asText()).isEqualTo("2026-12-06T10:00:00Z");
        }
    }

    @Test
    void aCollectorWhoseCertificateIsNotTrustedOrNamesAnotherHostIsRefused() throws Exception {
        TestPki pki = TestPki.create("syslog-ca");
        try (RsyslogServer rsyslog = new RsyslogServer(dir.resolve("rsyslog"), pki)) {
            rsyslog.start();
            SSLContext otherCa = TrustMaterial.clientContext(TestPki.create("other").writeCaPem(dir.resolve("other.pem")));
            try (SyslogAuditSink sink = syslog(rsyslog, otherCa, "localhost")) {
                assertThatThrownBy(() -> sink.append(event(1, "allowed"))).isInstanceOf(IOException.class);
            }
            SSLContext rightCa = TrustMaterial.clientContext(pki.writeCaPem(dir.resolve("ca.pem")));
            // The certificate names localhost only: dialled as 127.0.0.1 it does not name the host.
            try (SyslogAuditSink sink = new SyslogAuditSink("127.0.0.1", rsyslog.port(), rightCa, "tresor", "n",
                    Duration.ofSeconds(2))) {
                assertThatThrownBy(() -> sink.append(event(1, "allowed"))).isInstanceOf(IOException.class);
            }
            assertThat(rsyslog.awaitLines(0)).isEmpty();
        }
    }

    @Test
    void aBestEffortSyslogCopyBuffersThroughACollectorRestartAndLosesNothing() throws Exception {
        TestPki pki = TestPki.create("syslog-ca");
        try (RsyslogServer rsyslog = new RsyslogServer(dir.resolve("rsyslog"), pki)) {
            rsyslog.start();
            SSLContext tls = TrustMaterial.clientContext(pki.writeCaPem(dir.resolve("ca.pem")));
            BestEffortSink copy = new BestEffortSink(syslog(rsyslog, tls, "localhost"), 1_000, Duration.ofMillis(100),
                    BestEffortSink.WriteTimer.NONE);
            for (int i = 0; i < 5; i++) {
                copy.offer(event(i, "allowed"));
            }
            assertThat(rsyslog.awaitLines(5)).hasSize(5);
            rsyslog.stop();
            for (int i = 5; i < 15; i++) {
                copy.offer(event(i, "allowed")); // never blocks, never throws
            }
            Await.until("writes to the stopped collector failing", () -> copy.failed() > 0);
            rsyslog.start();
            List<String> lines = rsyslog.awaitLine("\"requestId\":\"req-14\"");
            copy.close(Duration.ofSeconds(5));
            // The record written into the dying connection may be delivered twice or lost by TCP
            // itself; what the sink holds is retried until the collector takes it.
            assertThat(lines.size()).isBetween(14, 16);
            assertThat(lines.getLast()).contains("\"requestId\":\"req-14\"");
            assertThat(copy.dropped()).isZero();
        }
    }

    @Test
    void aBestEffortSinkNeverBlocksTheCallerAndCountsWhatItDrops() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger delivered = new AtomicInteger();
        AuditSink stuck = new AuditSink() {
            @Override
            public void append(AuditEvent event) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                delivered.incrementAndGet();
            }

            @Override
            public String name() {
                return "stuck";
            }

            @Override
            public void close() {}
        };
        BestEffortSink copy = new BestEffortSink(stuck, 10, Duration.ofMillis(10), BestEffortSink.WriteTimer.NONE);
        for (int i = 0; i < 100; i++) {
            copy.offer(event(i, "allowed"));
        }
        // One batch (the first record and what was queued behind it, at most the buffer's 10) is
        // with the stuck sink, up to ten wait in the buffer, the rest were dropped.
        assertThat(copy.dropped()).isBetween(100L - 11 - 10, 90L);
        assertThat(copy.queueDepth()).isBetween(0, 10);
        release.countDown();
        Await.until("every record delivered or dropped", () -> delivered.get() + copy.dropped() >= 100);
        assertThat(delivered.get() + copy.dropped()).isEqualTo(100);
        assertThat(copy.written()).isEqualTo(delivered.get());
        copy.close();
    }

    @Test
    void aRequiredSinkMustTakeEveryRecordOrTheRecordFails() throws Exception {
        TestPki pki = TestPki.create("syslog-ca");
        try (RsyslogServer rsyslog = new RsyslogServer(dir.resolve("rsyslog"), pki)) {
            rsyslog.start();
            SSLContext tls = TrustMaterial.clientContext(pki.writeCaPem(dir.resolve("ca.pem")));
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            try (AuditLog audit = new AuditLog(List.of(new JsonLinesAuditSink(file, "file")),
                    List.of(syslog(rsyslog, tls, "localhost")), List.of(), Duration.ofSeconds(2), 16)) {
                audit.record(event(1, "allowed"));
                assertThat(rsyslog.awaitLine("\"requestId\":\"req-1\"")).hasSize(1);
                rsyslog.stop();
                // The first write after the collector went may still be taken by TCP (RFC 5425 has
                // no acknowledgement); the connection's reset fails the next one at the latest.
                int refused = 0;
                for (int i = 2; i <= 4; i++) {
                    try {
                        audit.record(event(i, "allowed"));
                    } catch (AuditUnavailableException e) {
                        assertThat(e.getMessage()).contains("syslog:localhost");
                        refused++;
                    }
                }
                assertThat(refused).as("records refused while the required collector is down").isGreaterThanOrEqualTo(2);
                rsyslog.start();
                audit.record(event(5, "allowed")); // reconnects
                assertThat(rsyslog.awaitLine("\"requestId\":\"req-5\"")).isNotEmpty();
            }
            // The file sink (one of the any-of sinks) has every record, refused ones included.
            assertThat(file.toString(StandardCharsets.UTF_8).split("\n")).hasSize(5);
        }
    }

    @Test
    void recordsQueuedBehindASlowWriteGoOutTogetherInOrder() throws Exception {
        List<List<String>> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch firstWrite = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AuditSink slow = new AuditSink() {
            @Override
            public void append(AuditEvent event) {
                throw new AssertionError("a best-effort copy writes batches");
            }

            @Override
            public void appendAll(List<AuditEvent> events) {
                writes.add(events.stream().map(AuditEvent::requestId).toList());
                firstWrite.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public String name() {
                return "slow";
            }

            @Override
            public void close() {}
        };
        BestEffortSink copy = new BestEffortSink(slow, 1_000, Duration.ofMillis(10), BestEffortSink.WriteTimer.NONE);
        copy.offer(event(0, "allowed"));
        firstWrite.await();
        for (int i = 1; i < 300; i++) {
            copy.offer(event(i, "allowed"));
        }
        release.countDown();
        Await.until("all 300 records written", () -> copy.written() >= 300);
        copy.close();
        List<String> all = writes.stream().flatMap(List::stream).toList();
        assertThat(all).hasSize(300);
        assertThat(all).isEqualTo(java.util.stream.IntStream.range(0, 300).mapToObj(i -> "req-" + i).toList());
        // 299 records queued behind the first write: two batches of at most 256, not 299 writes
        assertThat(writes).hasSize(3);
        assertThat(copy.written()).isEqualTo(300);
    }

    @Test
    void theAuditLogNeverWaitsForABestEffortCopy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AuditSink hung = new AuditSink() {
            @Override
            public void append(AuditEvent event) throws IOException {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException("interrupted");
                }
            }

            @Override
            public String name() {
                return "hung";
            }

            @Override
            public void close() {}
        };
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        BestEffortSink copy = new BestEffortSink(hung, 4, Duration.ofMillis(10), BestEffortSink.WriteTimer.NONE);
        try (AuditLog audit = new AuditLog(List.of(new JsonLinesAuditSink(stdout, "stdout")), List.of(copy),
                Duration.ofSeconds(2), 16)) {
            for (int i = 0; i < 50; i++) {
                audit.record(event(i, "allowed")); // returns although the copy is hung
            }
            String[] lines = stdout.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(lines).hasSize(50);
            assertThat(JSON.readTree(lines[1]).get("detail").asText()).isEqualTo("détail \"quoted\"\nnewline");
            assertThat(copy.dropped()).isPositive();
            release.countDown();
        }
    }
}
