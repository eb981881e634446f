package dev.tresor.mount;

import java.time.Duration;

/**
 * The fallback for a server without {@code GET /v1/watch}: says "re-list" every interval. Each
 * re-list is one audited listing (metadata only), so the interval trades audit volume for how soon
 * a revoke shows.
 */
final class PollingFeed implements ChangeFeed {

    private final Duration interval;

    PollingFeed(Duration interval) {
        this.interval = interval;
    }

    @Override
    public void start() {
        // Nothing to remember: every tick re-lists everything.
    }

    @Override
    public boolean awaitChange() throws InterruptedException {
        Thread.sleep(interval);
        return true;
    }

    @Override
    public String describe() {
        return "re-list every " + interval.toMillis() + " ms";
    }
}
