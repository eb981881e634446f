package dev.tresor.crypto;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Idle JCE objects ({@code Cipher}, {@code Mac}) kept for the next caller on any thread: the
 * API runs every request on a new virtual thread, so JCE's and Tink's per-thread caches never
 * hit. Keeps at most {@value #MAX_IDLE}; more are dropped for the GC.
 */
final class IdlePool<T> {

    private static final int MAX_IDLE = 64;

    private final ConcurrentLinkedQueue<T> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger idleCount = new AtomicInteger();

    /** An idle object, or null when there is none (the caller makes one). */
    T take() {
        T item = idle.poll();
        if (item != null) {
            idleCount.decrementAndGet();
        }
        return item;
    }

    /** Gives back an object in a state fit for the next caller. */
    void give(T item) {
        if (idleCount.incrementAndGet() <= MAX_IDLE) {
            idle.offer(item);
        } else {
            idleCount.decrementAndGet();
        }
    }
}
