package dev.tresor.client.api;

import java.util.List;

/** One answer of the change feed: the changes after the caller's cursor, and the cursor to ask from next. */
public record WatchPage(String cursor, List<Change> changes, boolean more) {

    public WatchPage {
        changes = List.copyOf(changes);
    }
}
