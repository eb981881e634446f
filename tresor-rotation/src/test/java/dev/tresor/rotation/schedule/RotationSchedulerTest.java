package dev.tresor.rotation.schedule;

import static org.assertj.core.api.Assertions.assertThat;

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
}
