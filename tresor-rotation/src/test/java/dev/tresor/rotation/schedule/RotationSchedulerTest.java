package dev.tresor.rotation.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.RotationConfigLoader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scheduler's decisions, driven with explicit instants (no sleeping, no wall clock). */
class RotationSchedulerTest {

    @TempDir
    Path dir;

    private RotationConfig definition(String name, String schedule) {
        return RotationConfigLoader.parse("""
                name: %s
                target:
                  kind: postgresql
                  role: app
                  grants:
                    - privileges: [CONNECT]
                      on: database
                secrets:
                  slots: %s/slots
                  admin: %s/admin
                consumers:
                  - kind: command
                    command: [true]
                schedule: "%s"
                """.formatted(name, name, name, schedule), dir.resolve(name + ".yaml"));
    }

    private static RotationReport report(String name, String errorKind) {
        return new RotationReport(name, false, Slot.A, Slot.B, List.of(), List.of(), Duration.ofMillis(5),
                errorKind == null ? null : "because", errorKind);
    }

    @Test
    void runsEachDefinitionWhenDueAndLogsTheOutcome() {
        Instant start = Instant.parse("2026-12-02T12:00:30Z");
        List<String> ran = new ArrayList<>();
        List<String> log = new ArrayList<>();
        RotationScheduler scheduler = new RotationScheduler(
                List.of(definition("hourly", "0 * * * *"), definition("busy", "30 12 * * *")),
                c -> {
                    ran.add(c.name());
                    return report(c.name(), c.name().equals("busy") ? "BUSY" : null);
                }, Clock.fixed(start, ZoneOffset.UTC), log::add);
        assertThat(scheduler.nextRuns()).containsEntry("hourly", Instant.parse("2026-12-02T13:00:00Z"))
                .containsEntry("busy", Instant.parse("2026-12-02T12:30:00Z"));
        Instant next = scheduler.runDue(Instant.parse("2026-12-02T12:10:00Z"));
        assertThat(ran).isEmpty();
        assertThat(next).isEqualTo(Instant.parse("2026-12-02T12:30:00Z"));
        next = scheduler.runDue(next);
        assertThat(ran).containsExactly("busy");
        assertThat(log.getLast()).contains("busy skipped: another node or job is running it");
        assertThat(next).isEqualTo(Instant.parse("2026-12-02T13:00:00Z"));
        // Missed several hours (the node was down): each runs once, then waits for its next time.
        next = scheduler.runDue(Instant.parse("2026-12-02T16:45:00Z"));
        assertThat(ran).containsExactly("busy", "hourly");
        assertThat(log.getLast()).contains("rotation hourly done");
        assertThat(next).isEqualTo(Instant.parse("2026-12-02T17:00:00Z"));
    }

    @Test
    void aFailedRunIsLoggedAndRetriedAtItsNextTime() {
        List<String> log = new ArrayList<>();
        RotationScheduler scheduler = new RotationScheduler(List.of(definition("weekly", "0 3 * * 0")),
                c -> report(c.name(), "ROLLED_BACK"), Clock.fixed(Instant.parse("2026-12-02T12:00:00Z"), ZoneOffset.UTC), log::add);
        Instant next = scheduler.runDue(Instant.parse("2026-12-06T03:00:00Z"));
        assertThat(log).anyMatch(l -> l.contains("weekly failed (ROLLED_BACK): because; retried at its next scheduled time"));
        assertThat(next).isEqualTo(Instant.parse("2026-12-13T03:00:00Z"));
    }

    /**
     * The thread itself: a clock half a second before a minute boundary makes an every-minute
     * definition due almost at once; the run happens without anyone calling runDue.
     */
    @Test
    void theThreadRunsWhatIsDueAndStopsWhenClosed() throws Exception {
        Instant base = Instant.parse("2026-12-02T12:00:59.500Z");
        Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(Instant.now(), base));
        CountDownLatch ran = new CountDownLatch(1);
        List<String> log = new CopyOnWriteArrayList<>();
        RotationScheduler scheduler = new RotationScheduler(List.of(definition("minutely", "* * * * *")), c -> {
            ran.countDown();
            return report(c.name(), null);
        }, clock, log::add);
        assertThat(scheduler.nextRuns()).containsEntry("minutely", Instant.parse("2026-12-02T12:01:00Z"));
        scheduler.start();
        assertThat(ran.await(30, TimeUnit.SECONDS)).as("the scheduler ran the due definition by itself").isTrue();
        scheduler.close();
        assertThat(log).anyMatch(l -> l.contains("rotation minutely done"));
        assertThat(scheduler.nextRuns().get("minutely")).isAfter(Instant.parse("2026-12-02T12:00:59Z"));
        assertNoSchedulerThreadLeft();
    }

    /** close() ends a wait for a run days away at once, rather than at the scheduler's next look at the clock. */
    @Test
    void closingAnIdleSchedulerEndsItsThread() throws Exception {
        List<String> ran = new CopyOnWriteArrayList<>();
        RotationScheduler scheduler = new RotationScheduler(List.of(definition("weekly", "0 3 * * 0")),
                c -> {
                    ran.add(c.name());
                    return report(c.name(), null);
                }, Clock.fixed(Instant.parse("2026-12-02T12:00:00Z"), ZoneOffset.UTC), line -> { });
        scheduler.start();
        assertTimeoutPreemptively(Duration.ofSeconds(30), scheduler::close, "close() waited for the next run");
        assertNoSchedulerThreadLeft();
        assertThat(ran).isEmpty();
    }

    /** The executor reports termination as its worker leaves its loop, a moment before the thread itself ends. */
    private static void assertNoSchedulerThreadLeft() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("tresor-rotation-scheduler")) {
                t.join(Duration.ofSeconds(10));
                assertThat(t.isAlive()).as("scheduler thread still running after close").isFalse();
            }
        }
    }
}
