package dev.tresor.store;

/**
 * The state of a store's notification connection (PostgreSQL's LISTEN), for metrics and tests.
 *
 * @param connected     true while a LISTEN connection is open and answering
 * @param backendPid    the PostgreSQL backend pid of that connection (0 when not connected): the
 *                      one to look for in {@code pg_stat_activity}
 * @param connects      how many times a LISTEN connection was opened (1 after a start, more after losses)
 * @param notifications notifications received so far
 */
public record ChangeListenerStatus(boolean connected, int backendPid, long connects, long notifications) {
    public static final ChangeListenerStatus NOT_STARTED = new ChangeListenerStatus(false, 0, 0, 0);
}
