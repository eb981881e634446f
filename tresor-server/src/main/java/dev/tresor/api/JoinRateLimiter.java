package dev.tresor.api;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Join attempts per source address: a token bucket of {@code burst} attempts refilled at
 * {@code perMinute} a minute. Every attempt counts (a guesser and a legitimate workload look the
 * same before the token is checked). At most {@code maxAddresses} addresses are tracked; when
 * that is reached, buckets that have refilled completely are forgotten, and if none has, new
 * addresses are refused until some have (fail closed under a flood of spoofed-looking sources).
 */
public final class JoinRateLimiter {

    /** Attempt limits; {@link #DEFAULT}: 10 at once, 10 a minute, 10 000 addresses. */
    public record Limits(int burst, int perMinute, int maxAddresses) {
        public static final Limits DEFAULT = new Limits(10, 10, 10_000);

        public Limits {
            if (burst < 1 || perMinute < 1 || maxAddresses < 1) {
                throw new IllegalArgumentException("join rate limits must be positive");
            }
        }
    }

    private final Limits limits;
    private final Clock clock;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public JoinRateLimiter(Limits limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
    }

    private static final class Bucket {
        private double tokens;
        private long updatedMillis;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.updatedMillis = now;
        }

        synchronized boolean take(long now, Limits limits) {
            refill(now, limits);
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }

        synchronized boolean full(long now, Limits limits) {
            refill(now, limits);
            return tokens >= limits.burst();
        }

        private void refill(long now, Limits limits) {
            long elapsed = Math.max(0, now - updatedMillis);
            tokens = Math.min(limits.burst(), tokens + elapsed * limits.perMinute() / (double) Duration.ofMinutes(1).toMillis());
            updatedMillis = now;
        }
    }

    /** Whether {@code source} may make one more attempt now (and counts it). */
    public boolean tryAcquire(String source) {
        long now = clock.millis();
        String key = source == null ? "?" : source;
        Bucket bucket = buckets.get(key);
        if (bucket == null) {
            if (buckets.size() >= limits.maxAddresses()) {
                buckets.values().removeIf(b -> b.full(now, limits));
                if (buckets.size() >= limits.maxAddresses()) {
                    return false;
                }
            }
            bucket = buckets.computeIfAbsent(key, k -> new Bucket(limits.burst(), now));
        }
        return bucket.take(now, limits);
    }
}
