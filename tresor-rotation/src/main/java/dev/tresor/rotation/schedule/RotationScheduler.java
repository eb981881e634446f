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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs rotation definitions on their {@code schedule}, inside a long-running process such as
 * {@code tresor server}. One run at a time per process; across server nodes the database
 * advisory lock of each rotation lets exactly one node run it (the others log "skipped"), and a
 * run whose session (so its lock) is lost mid-way stops at its next step (see RotationEngine).
 * A run that fails is simply tried again at its next time: reruns converge.
 */
public final class RotationScheduler implements AutoCloseable {

    /** Runs one definition (in production: a RotationJob with the scheduler's Tresor identity). */
    public interface Runner extends Function<RotationConfig, RotationReport> {}

    private static final Duration RECHECK = Duration.ofMinutes(1);

    private final Map<RotationConfig, CronSchedule> schedules = new LinkedHashMap<>();
    private final Map<RotationConfig, ZonedDateTime> due = new LinkedHashMap<>();
    private final Runner runner;
    private final Clock clock;
    private final Consumer<String> log;
    private final ScheduledThreadPoolExecutor timer;
    private boolean started;

    public RotationScheduler(List<RotationConfig> definitions, Runner runner, Clock clock, Consumer<String> log) {
        this.runner = runner;
        this.clock = clock;
        this.log = log;
        this.timer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("tresor-rotation-scheduler").daemon().factory());
        // Without this, shutdown() would still wait for the next delayed tick, possibly days away.
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        java.time.Instant now = clock.instant();
        for (RotationConfig c : definitions) {
            if (c.schedule() == null) {
                throw new IllegalArgumentException(c.source() + ": schedule is required for a scheduled rotation");
            }
            CronSchedule s = CronSchedule.parse(c.schedule());
            schedules.put(c, s);
            due.put(c, s.next(now.atZone(c.timeZone())));
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
            due.put(c, schedules.get(c).next(ZonedDateTime.ofInstant(now, c.timeZone())));
        }
        return due.values().stream().map(ZonedDateTime::toInstant).min(Instant::compareTo).orElse(Instant.MAX);
    }

    /**
     * Starts the scheduling thread: it sleeps in the executor's delay queue until the next run is
     * due, so {@link #close()} ends the wait at once instead of at the next poll.
     */
    public synchronized void start() {
        if (started) {
            return;
        }
        started = true;
        Instant next = nextRuns().values().stream().min(Instant::compareTo).orElse(Instant.MAX);
        log.accept("rotation scheduler: " + schedules.size() + " definition(s), next run " + next);
        submit(() -> tick(next));
    }

    /** Runs what is due, if anything, then schedules the next look at the clock. */
    private void tick(Instant next) {
        Instant now = clock.instant();
        Instant following = now.isBefore(next) ? next : runDue(now);
        Duration wait = Duration.between(clock.instant(), following);
        // The delay queue counts on the monotonic clock, which a suspended machine or a clock step
        // leaves behind the wall clock that cron times are on: look again at least once a minute.
        Duration delay = wait.isNegative() ? Duration.ZERO : wait.compareTo(RECHECK) > 0 ? RECHECK : wait;
        try {
            timer.schedule(() -> tick(following), delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // close() was called while this tick ran: nothing more to schedule.
        }
    }

    private void submit(Runnable task) {
        try {
            timer.execute(task);
        } catch (RejectedExecutionException e) {
            // Closed before it started.
        }
    }

    /**
     * Stops the scheduler: a waiting scheduler ends at once, a rotation already running is let
     * finish (stopping it halfway would only leave work for the next run), then this returns.
     */
    @Override
    public void close() {
        timer.shutdown();
        try {
            while (!timer.awaitTermination(1, TimeUnit.MINUTES)) {
                log.accept("rotation scheduler: waiting for the running rotation to finish before stopping");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
