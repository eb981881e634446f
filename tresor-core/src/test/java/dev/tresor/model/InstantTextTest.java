package dev.tresor.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The audit writer's time text must be exactly {@link Instant#toString()}: verifiers re-read it. */
class InstantTextTest {

    private static final long YEAR_10000 = 253_402_300_800L;

    @Test
    void equalsInstantToStringForEveryShapeOfFraction() {
        InstantText text = new InstantText();
        Random random = new Random(7);
        int[] nanos = {0, 1, 999_999_999, 1_000, 999_000, 1_000_000, 5_000_000, 123_000_000, 120_000, 100, 123_456_789};
        for (int i = 0; i < 20_000; i++) {
            long second = switch (i % 4) {
                case 0 -> random.nextLong(0, YEAR_10000);
                case 1 -> 1_764_633_600L + random.nextInt(5); // the same few seconds again and again
                case 2 -> random.nextLong(-YEAR_10000, 0); // before 1970: not cached
                default -> YEAR_10000 - 2 + random.nextInt(4); // around the year 10000 switch
            };
            int nano = random.nextBoolean() ? nanos[random.nextInt(nanos.length)] : random.nextInt(1_000_000_000);
            Instant instant = Instant.ofEpochSecond(second, nano);
            assertThat(text.format(instant)).as("%s", instant).isEqualTo(instant.toString());
        }
    }

    @Test
    void aClockThatStepsBackIsFormattedCorrectly() {
        InstantText text = new InstantText();
        Instant later = Instant.parse("2026-12-02T00:36:17.327123Z");
        Instant earlier = Instant.parse("2026-12-02T00:36:16.999999999Z");
        assertThat(text.format(later)).isEqualTo(later.toString());
        assertThat(text.format(earlier)).isEqualTo(earlier.toString());
        assertThat(text.format(later)).isEqualTo(later.toString());
        assertThat(text.format(Instant.EPOCH)).isEqualTo("1970-01-01T00:00:00Z");
    }
}
