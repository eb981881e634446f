package dev.tresor.audit;

import java.time.Duration;

/**
 * When the file sink cuts its log into a new segment ({@link AuditSegments}): once the segment
 * being written holds {@code maxBytes}, or is {@code maxAge} old (null: no age limit), whichever
 * comes first. A segment is only cut after a record, so it may exceed {@code maxBytes} by one batch.
 */
public record SegmentPolicy(long maxBytes, Duration maxAge) {

    /** One file, never cut. */
    public static final SegmentPolicy NONE = new SegmentPolicy(Long.MAX_VALUE, null);

    public SegmentPolicy {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
            throw new IllegalArgumentException("maxAge must be positive: " + maxAge);
        }
    }
}
