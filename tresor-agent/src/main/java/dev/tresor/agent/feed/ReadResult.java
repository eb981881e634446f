package dev.tresor.agent.feed;

import java.util.Arrays;

/** The outcome of reading one secret. */
public sealed interface ReadResult {

    /** The value (the caller zeroes it with {@link #wipe()} when done) and its version. */
    record Value(byte[] bytes, int version) implements ReadResult {
        public void wipe() {
            Arrays.fill(bytes, (byte) 0);
        }

        @Override
        public String toString() {
            return "Value[version=" + version + ", " + bytes.length + " bytes]";
        }
    }

    /** The server says it is not readable now: 404 (deleted, unknown), 403 (not granted), 410 (expired). */
    record Gone(int status, String message) implements ReadResult {}

    /** No answer worth acting on: unreachable, timeout, 5xx, 401. Keep what is rendered and retry. */
    record Unavailable(String message) implements ReadResult {}
}
