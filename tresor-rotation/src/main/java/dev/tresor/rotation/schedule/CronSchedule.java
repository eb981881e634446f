package dev.tresor.rotation.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;

/**
 * A 5-field Unix cron expression (minute hour day-of-month month day-of-week; names such as
 * {@code mon} and {@code jan}, ranges, lists and steps), parsed and evaluated by cron-utils. As in
 * cron, when both day fields are restricted a day matches if either does. The time zone is the
 * one of the instant {@link #next} is asked about, so daylight-saving changes are cron-utils'.
 */
public final class CronSchedule {

    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final String text;
    private final ExecutionTime executions;

    private CronSchedule(String text, Cron cron) {
        this.text = text;
        this.executions = ExecutionTime.forCron(cron);
    }

    /** @throws IllegalArgumentException saying what is wrong with the expression */
    public static CronSchedule parse(String text) {
        String trimmed = text.trim();
        if (trimmed.split("\\s+").length != 5) {
            throw new IllegalArgumentException("'" + text + "' must have 5 fields: minute hour day-of-month month day-of-week");
        }
        try {
            return new CronSchedule(trimmed, PARSER.parse(trimmed).validate());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + trimmed + "': " + e.getMessage(), e);
        }
    }

    /** The first minute strictly after {@code after} that matches (in {@code after}'s time zone). */
    public ZonedDateTime next(ZonedDateTime after) {
        ZonedDateTime from = after.truncatedTo(ChronoUnit.MINUTES);
        return executions.nextExecution(from)
                .filter(t -> t.isBefore(after.plusYears(5)))
                .orElseThrow(() -> new IllegalArgumentException("'" + text + "' never matches (e.g. February 30)"));
    }

    @Override
    public String toString() {
        return text;
    }
}
