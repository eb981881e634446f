package dev.tresor.feed;

import java.util.List;

/**
 * An answer of the feed: the changes after the watcher's cursor that concern it, the cursor to
 * pass next, and whether more are waiting (call again at once).
 */
public record FeedPage(long cursor, List<Change> changes, boolean more) {

    public FeedPage {
        changes = List.copyOf(changes);
    }
}
