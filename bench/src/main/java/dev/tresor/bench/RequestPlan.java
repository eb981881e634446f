package dev.tresor.bench;

import java.util.List;

/** What each connection sends next. Implementations must be safe to call from many threads. */
@FunctionalInterface
interface RequestPlan {

    /** The full request bytes for request number {@code sequence} of connection {@code connection}. */
    byte[] request(int connection, long sequence);

    /** GETs of the given paths, round-robin, each connection starting at its own offset. */
    static RequestPlan gets(List<String> paths, String accept) {
        byte[][] prepared = paths.stream().map(p -> HttpConnection.request("GET", p, accept, null, null)).toArray(byte[][]::new);
        return (connection, sequence) -> prepared[(int) ((connection * 7L + sequence) % prepared.length)];
    }
}
