package dev.tresor.agent.feed;

import java.util.List;

/** The outcome of one {@code GET /v1/watch}. */
public sealed interface WatchResult {

    /** Changes after the cursor asked for (possibly none); {@code more}: call again at once. */
    record Changes(String cursor, List<Change> changes, boolean more) implements WatchResult {
        public Changes {
            changes = List.copyOf(changes);
        }
    }

    /** 410: the cursor is too old or from the future; re-list everything and start over. */
    record Reset(String message) implements WatchResult {}

    /** The server has no change feed (404 on /v1/watch): fall back to re-reading every pollInterval. */
    record NoFeed(String message) implements WatchResult {}

    /** Unreachable, timeout, 5xx, 401: retry with backoff, keep the files. */
    record Unavailable(String message) implements WatchResult {}
}
