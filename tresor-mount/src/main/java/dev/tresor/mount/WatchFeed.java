package dev.tresor.mount;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's change feed (docs/delivery.md, {@code GET /v1/watch}): learn the cursor, list, then
 * long-poll from the cursor. A server that answers 404 on /v1/watch predates the feed: the mount
 * then re-lists on a timer instead ({@link PollingFeed}) and says so once in the log.
 */
final class WatchFeed implements ChangeFeed {

    private static final Logger LOG = LoggerFactory.getLogger(WatchFeed.class);

    private final SecretsApi api;
    private final Duration wait;
    private final PollingFeed fallback;
    private volatile boolean polling;
    private String cursor;

    WatchFeed(SecretsApi api, Duration wait, Duration pollInterval) {
        this.api = api;
        this.wait = wait;
        this.fallback = new PollingFeed(pollInterval);
    }

    @Override
    public void start() throws ApiFailure, InterruptedException {
        if (polling) {
            return;
        }
        try {
            cursor = api.watch(null, wait).cursor();
        } catch (ApiFailure e) {
            if (e.status() != 404) {
                throw e;
            }
            polling = true;
            LOG.warn("tresor mount: {} has no change feed (GET /v1/watch answered 404); falling back to {}",
                    api.servers(), fallback.describe());
        }
    }

    @Override
    public boolean awaitChange() throws ApiFailure, InterruptedException {
        if (polling) {
            return fallback.awaitChange();
        }
        SecretsApi.WatchReply reply = api.watch(cursor, wait);
        cursor = reply.cursor();
        return reply.changes() > 0;
    }

    @Override
    public String describe() {
        return polling ? fallback.describe() : "change feed (long-poll, wait " + wait.toSeconds() + "s)";
    }
}
