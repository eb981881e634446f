package dev.tresor.mount;

/**
 * Tells the mount when to re-list. The refresh loop only ever asks "has anything that concerns me
 * changed?", so the server's long-poll, a timer, or a test's hand-driven feed are interchangeable.
 */
interface ChangeFeed {

    /** Marks the point to watch from; called before every full listing so a change between the two is not missed. */
    void start() throws ApiFailure, InterruptedException;

    /**
     * Blocks for a bounded time until a change after the start (or the previous call) concerns the
     * caller. True: re-list now. False: nothing happened, ask again. An {@link ApiFailure} with
     * status 410 means the position is lost: start again and re-list.
     */
    boolean awaitChange() throws ApiFailure, InterruptedException;

    /** A short name for log lines ("watch", "poll every 1s"). */
    String describe();
}
