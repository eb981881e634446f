package dev.tresor.rotation.schedule;

import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.config.RotationConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs rotation definitions on their {@code schedule}, inside a long-running process such as
 * {@code tresor server}. One run at a time per process; across server nodes the database
 * advisory lock of each rotation lets exactly one node run it (the others log "skipped").
 * A run that fails is simply tried again at its next time: reruns converge.
 */
public final class RotationScheduler implements AutoCloseable {

    /** Runs one definition (in production: a RotationJob with the scheduler's Tresor identity). */
    public interface Runner extends Function<RotationConfig, RotationReport> {}

    private final Map<RotationConfig, CronSchedule> schedules = new LinkedHashMap<>();
    private final Map<RotationConfig, ZonedDateTime> due = new LinkedHashMap<>();
    private final Runner runner;
    private final Clock clock;
    private final Consumer<String> log;
    private Thread thread;

    public RotationScheduler(List<RotationConfig> definitions, Runner runner, Clock clock, Consumer<String> log) {
        this.runner = runner;
        this.clock = clock;
        this.log = log;
        ZonedDateTime now = ZonedDateTime.now(clock);
        for (RotationConfig c : definitions) {
            if (c.schedule() == null) {
                throw new IllegalArgumentException(c.source() + ": schedule is required for a scheduled rotation");
            }
            CronSchedule s = CronSchedule.parse(c.schedule());
            schedules.put(c, s);
            due.put(c, s.next(now));
        }
    }

    /** When each definition runs next. */
    public synchronized Map<String, Instant> nextRuns() {
        Map<String, Instant> out = new LinkedHashMap<>();
        due.forEach((c, t) -> out.put(c.name(), t.toInstant()));
        return out;
    }

    /**
     * Runs every definition due at {@code now} (each once, even if several times were missed) and
     * returns the next instant anything is due. The thread calls this; tests call it directly.
     */
    public synchronized Instant runDue(Instant now) {
        List<RotationConfig> ready = new ArrayList<>();
        due.forEach((c, t) -> {
            if (!t.toInstant().isAfter(now)) {
                ready.add(c);
            }
        });
        for (RotationConfig c : ready) {
            RotationReport report;
            try {
                report = runner.apply(c);
            } catch (RuntimeException e) {
                report = null;
                log.accept("rotation " + c.name() + " could not run: " + e.getMessage());
            }
            if (report != null) {
                if (report.ok()) {
                    log.accept("rotation " + c.name() + " done in " + report.total().toMillis() + " ms: slot "
                            + report.activeAfter() + " active" + (report.healed().isEmpty() ? "" : "; healed: " + report.healed()));
                } else if ("BUSY".equals(report.errorKind())) {
                    log.accept("rotation " + c.name() + " skipped: another node or job is running it");
                } else {
                    log.accept("rotation " + c.name() + " failed (" + report.errorKind() + "): " + report.error()
                            + "; retried at its next scheduled time");
                }
            }
            due.put(c, schedules.get(c).next(ZonedDateTime.ofInstant(now, clock.getZone())));
        }
        return due.values().stream().map(ZonedDateTime::toInstant).min(Instant::compareTo).orElse(Instant.MAX);
    }

    /** Starts the scheduling thread. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        thread = Thread.ofPlatform().name("tresor-rotation-scheduler").daemon().start(() -> {
            Instant next = nextRuns().values().stream().min(Instant::compareTo).orElse(Instant.MAX);
            log.accept("rotation scheduler: " + schedules.size() + " definition(s), next run " + next);
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Duration wait = Duration.between(clock.instant(), next);
                    if (wait.isPositive()) {
                        Thread.sleep(wait.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : wait);
                        continue;
                    }
                    next = runDue(clock.instant());
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    @Override
    public synchronized void close() {
        if (thread != null) {
            thread.interrupt();
        }
    }
}
