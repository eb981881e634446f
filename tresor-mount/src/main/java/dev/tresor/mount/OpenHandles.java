package dev.tresor.mount;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The values of open files, the only place a mount holds secret bytes. A value is fetched at
 * open, zeroed at release (or at unmount), and a handle of a secret the client may no longer read
 * is marked revoked so its next read fails with EACCES instead of serving the old bytes.
 */
final class OpenHandles {

    /** One open file. Guarded by its own lock so a release (wipe) never races a read (copy). */
    static final class Handle {
        final String name;
        final int version;
        private byte[] value;
        private boolean revoked;

        Handle(String name, int version, byte[] value) {
            this.name = name;
            this.version = version;
            this.value = value;
        }

        synchronized int length() {
            return value == null ? 0 : value.length;
        }

        /** Copies up to {@code size} bytes from {@code offset}: the count, or -1 when revoked, -2 when already wiped. */
        synchronized int copy(java.nio.ByteBuffer into, long size, long offset) {
            if (revoked) {
                return -1;
            }
            if (value == null) {
                return -2;
            }
            if (offset >= value.length) {
                return 0;
            }
            int n = (int) Math.min(Math.min(size, value.length - offset), into.remaining());
            into.put(value, (int) offset, n);
            return n;
        }

        synchronized void revoke() {
            revoked = true;
            wipe();
        }

        synchronized boolean revoked() {
            return revoked;
        }

        synchronized void wipe() {
            if (value != null) {
                Arrays.fill(value, (byte) 0);
                value = null;
            }
        }
    }

    private final ConcurrentHashMap<Long, Handle> open = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    long add(Handle handle) {
        long id = ids.incrementAndGet();
        open.put(id, handle);
        return id;
    }

    Handle get(long id) {
        return open.get(id);
    }

    void release(long id) {
        Handle handle = open.remove(id);
        if (handle != null) {
            handle.wipe();
        }
    }

    /** Marks (and wipes) every handle of a secret {@code tree} no longer lists: a revoke, delete or destroy. */
    int revokeMissing(Tree tree) {
        int revoked = 0;
        for (Handle handle : open.values()) {
            if (!tree.readable(handle.name) && !handle.revoked()) {
                handle.revoke();
                revoked++;
            }
        }
        return revoked;
    }

    int size() {
        return open.size();
    }

    void wipeAll() {
        open.values().forEach(Handle::wipe);
        open.clear();
    }
}
