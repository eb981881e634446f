package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {

    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** Generous: the assertion is "it returns", not how fast. */
    private static final long RETURNS_WITHIN_MILLIS = TIMEOUT.toMillis() * 10;

    @TempDir
    Path dir;

    private final BlockedSink blocked = new BlockedSink();

    @AfterEach
    void unblock() {
        blocked.release.countDown();
    }

    @Test
    void aRecordLandsInTheFileBeforeRecordReturns() throws IOException {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path file = dir.resolve("audit.log");
        try (AuditLog audit = new AuditLog(List.of(new FileAuditSink(file, kek)), TIMEOUT)) {
            audit.record(read(1));
            assertThat(lines(file)).hasSize(2).last().asString().contains("\"requestId\":\"req-1\"");
            assertThat(audit.failures()).isZero();
        }
        assertThat(AuditVerifier.verify(file, kek).cleanlyClosed()).isTrue();
    }

    @Test
    void aSinkBlockedForeverMakesRecordFailWithinTheTimeoutAndKeepsOtherCallersResponsive() throws Exception {
        AuditLog audit = new AuditLog(List.of(blocked), TIMEOUT);

        CompletableFuture<Throwable> concurrent = CompletableFuture.supplyAsync(() -> failureOf(audit, read(2)));
        long start = System.nanoTime();
        Throwable first = failureOf(audit, read(1));
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(first).isInstanceOf(AuditUnavailableException.class)
                .hasMessage("no audit sink confirmed the record within " + TIMEOUT);
        assertThat(elapsedMillis).isLessThan(RETURNS_WITHIN_MILLIS);
        assertThat(concurrent.get(RETURNS_WITHIN_MILLIS, TimeUnit.MILLISECONDS)).isInstanceOf(AuditUnavailableException.class);
        assertThat(audit.failures()).isEqualTo(2);
        assertThat(blocked.entered.get()).isEqualTo(2);
    }

    @Test
    void aStuckSinkCannotPileUpWritesWithoutBound() {
        AuditLog audit = new AuditLog(List.of(blocked), TIMEOUT, 2);
        assertThat(failureOf(audit, read(1))).hasMessageContaining("within");
        assertThat(failureOf(audit, read(2))).hasMessageContaining("within");

        // Both earlier writes still hang in the sink: the third is refused at once, not queued.
        Throwable third = failureOf(audit, read(3));

        assertThat(third).isInstanceOf(AuditUnavailableException.class)
                .hasMessageContaining("every audit sink failed")
                .hasMessageContaining("blocked: 2 writes already pending");
        assertThat(blocked.entered.get()).isEqualTo(2);
        assertThat(audit.failures()).isEqualTo(3);
    }

    @Test
    void oneWorkingSinkIsEnough() throws IOException {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path file = dir.resolve("audit.log");
        AuditSink broken = new FailingSink();
        try (AuditLog audit = new AuditLog(List.of(blocked, broken, new FileAuditSink(file, kek)), TIMEOUT)) {
            audit.record(read(1));
            audit.record(read(2));
            assertThat(audit.failures()).isZero();
            // The file sink confirmed both records, possibly before the broken sink's own writer
            // thread had failed: its count catches up within moments.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (audit.sinkFailures().get("broken") < 2 && System.nanoTime() < deadline) {
                Thread.yield();
            }
            assertThat(audit.sinkFailures()).containsEntry("broken", 2L).containsEntry("blocked", 0L);
        }
        assertThat(lines(file)).hasSize(4);
    }

    @Test
    void whenEverySinkFailsTheCallerLearnsWhyAtOnce() {
        AuditLog audit = new AuditLog(List.of(new FailingSink()), Duration.ofSeconds(30));
        long start = System.nanoTime();

        Throwable failure = failureOf(audit, read(1));

        assertThat(failure).isInstanceOf(AuditUnavailableException.class)
                .hasMessage("every audit sink failed (broken: disk on fire)");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
        assertThat(audit.failures()).isEqualTo(1);
    }

    @Test
    void anUnwritableFileLogMakesRecordThrowAuditUnavailable() throws IOException {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path file = dir.resolve("audit.log");
        FileAuditSink sink = new FileAuditSink(file, kek, Duration.ZERO);
        AuditLog audit = new AuditLog(List.of(sink), TIMEOUT);
        audit.record(read(1));
        Files.createDirectory(dir.resolve("audit.log.anchor.tmp")); // the anchor can no longer be written

        assertThatThrownBy(() -> audit.record(read(2))).isInstanceOf(AuditUnavailableException.class)
                .hasMessageContaining("every audit sink failed").hasMessageContaining("fsync of audit log");
        assertThatThrownBy(() -> audit.record(read(3))).isInstanceOf(AuditUnavailableException.class)
                .hasMessageContaining("unusable after an earlier failure");
        assertThat(audit.failures()).isEqualTo(2);
        audit.close();
    }

    @Test
    void closeReturnsEvenIfASinkNeverCloses() {
        AuditLog audit = new AuditLog(List.of(blocked), TIMEOUT);
        blocked.blockClose = true;
        long start = System.nanoTime();

        audit.close();

        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(RETURNS_WITHIN_MILLIS);
        assertThatThrownBy(() -> audit.record(read(1))).isInstanceOf(AuditUnavailableException.class)
                .hasMessage("the audit log is closed");
    }

    @Test
    void closeEndsTheWaitOfACallerWhoseSinkNeverAnswers() throws Exception {
        AuditLog audit = new AuditLog(List.of(blocked), Duration.ofMinutes(10));
        CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> failureOf(audit, read(1)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (blocked.entered.get() == 0) {
            assertThat(System.nanoTime()).as("the write reached the sink").isLessThan(deadline);
            Thread.onSpinWait();
        }

        audit.close();

        assertThat(waiting.get(RETURNS_WITHIN_MILLIS, TimeUnit.MILLISECONDS))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("no audit sink confirmed");
        assertThat(audit.failures()).isEqualTo(1);
    }

    @Test
    void manyCallersTimingOutTogetherAllReturnAndAllCount() throws Exception {
        AuditLog audit = new AuditLog(List.of(blocked), TIMEOUT);
        try (var callers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<Throwable>> outcomes = new java.util.ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int id = i;
                outcomes.add(callers.submit(() -> failureOf(audit, read(id))));
            }
            for (var outcome : outcomes) {
                assertThat(outcome.get(RETURNS_WITHIN_MILLIS, TimeUnit.MILLISECONDS))
                        .isInstanceOf(AuditUnavailableException.class);
            }
        }
        assertThat(audit.failures()).isEqualTo(200);
        audit.close();
    }

    @Test
    void rejectsAnUnusableConfiguration() {
        assertThatThrownBy(() -> new AuditLog(List.of(), TIMEOUT)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AuditLog(List.of(blocked), Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AuditLog(List.of(blocked), TIMEOUT, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static Throwable failureOf(AuditLog audit, AuditEvent event) {
        try {
            audit.record(event);
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** A sink whose writes hang until the test ends, like a hung network filesystem. */
    private static final class BlockedSink implements AuditSink {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger entered = new AtomicInteger();
        volatile boolean blockClose;

        @Override
        public void append(AuditEvent event) throws IOException {
            entered.incrementAndGet();
            awaitRelease();
            throw new IOException("released at the end of the test");
        }

        @Override
        public String name() {
            return "blocked";
        }

        @Override
        public void close() {
            if (blockClose) {
                awaitRelease();
            }
        }

        private void awaitRelease() {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final class FailingSink implements AuditSink {
        @Override
        public void append(AuditEvent event) throws IOException {
            throw new IOException("disk on fire");
        }

        @Override
        public String name() {
            return "broken";
        }

        @Override
        public void close() {}
    }
}
