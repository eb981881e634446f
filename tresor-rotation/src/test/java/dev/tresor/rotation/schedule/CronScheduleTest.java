package dev.tresor.rotation.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CronScheduleTest {

    private static final ZonedDateTime WED_NOON = ZonedDateTime.of(2026, 12, 2, 12, 0, 30, 0, ZoneOffset.UTC);

    private static ZonedDateTime next(String cron, ZonedDateTime after) {
        return CronSchedule.parse(cron).next(after);
    }

    @Test
    void weeklyDailyAndStepped() {
        assertThat(next("0 3 * * 0", WED_NOON)).isEqualTo(ZonedDateTime.of(2026, 12, 6, 3, 0, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 3 * * 7", WED_NOON)).as("7 is Sunday too").isEqualTo(next("0 3 * * 0", WED_NOON));
        assertThat(next("30 2 * * *", WED_NOON)).isEqualTo(ZonedDateTime.of(2026, 12, 3, 2, 30, 0, 0, ZoneOffset.UTC));
        assertThat(next("*/15 * * * *", WED_NOON)).isEqualTo(ZonedDateTime.of(2026, 12, 2, 12, 15, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 0 1 1,7 *", WED_NOON)).isEqualTo(ZonedDateTime.of(2027, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
        assertThat(next("0 9-17/4 * * 1-5", WED_NOON)).isEqualTo(ZonedDateTime.of(2026, 12, 2, 13, 0, 0, 0, ZoneOffset.UTC));
    }

    @Test
    void bothDayFieldsMeanEither() {
        // the 15th, or any Friday: Friday 4 December comes first
        assertThat(next("0 0 15 * 5", WED_NOON)).isEqualTo(ZonedDateTime.of(2026, 12, 4, 0, 0, 0, 0, ZoneOffset.UTC));
    }

    @Test
    void namesAndTimeZones() {
        assertThat(next("0 3 * * sun", WED_NOON)).isEqualTo(next("0 3 * * 0", WED_NOON));
        assertThat(next("0 0 1 jan *", WED_NOON)).isEqualTo(ZonedDateTime.of(2027, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
        // 03:00 in Berlin: 02:00 UTC in winter; the zone is that of the instant asked about.
        java.time.ZoneId berlin = java.time.ZoneId.of("Europe/Berlin");
        assertThat(next("0 3 * * *", WED_NOON.withZoneSameInstant(berlin)).toInstant())
                .isEqualTo(ZonedDateTime.of(2026, 12, 3, 2, 0, 0, 0, ZoneOffset.UTC).toInstant());
    }

    @Test
    void badExpressionsNameTheField() {
        assertThatThrownBy(() -> CronSchedule.parse("0 3 * *")).hasMessageContaining("must have 5 fields");
        assertThatThrownBy(() -> CronSchedule.parse("61 3 * * *")).hasMessageContaining("61");
        assertThatThrownBy(() -> CronSchedule.parse("0 3 * * someday")).hasMessageContaining("someday");
        assertThatThrownBy(() -> CronSchedule.parse("0 0 30 2 *").next(WED_NOON)).hasMessageContaining("never matches");
    }
}
