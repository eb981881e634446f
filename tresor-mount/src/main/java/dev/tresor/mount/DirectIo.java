package dev.tresor.mount;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import org.cryptomator.jfuse.api.FileInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets {@code fuse_file_info.direct_io} at open, which jfuse 0.7.3 does not expose (and libfuse 3.14
 * has no {@code -o direct_io} mount option any more). With it, every read of an open file comes to
 * this process: the kernel keeps no copy of the value in its page cache after release, and a read
 * on a revoked handle reaches us and fails with EACCES instead of being served from cache.
 *
 * <p>In every libfuse 3.x {@code struct fuse_file_info} starts with {@code int32_t flags} followed by
 * a 32-bit word of bit fields {@code writepage:1, direct_io:1, keep_cache:1, ...} (GCC on x86-64
 * allocates from the low bit), so {@code direct_io} is bit 1 of the word at byte offset 4. jfuse's
 * Linux {@code FileInfo} is a record over that struct's memory with a {@code segment()} accessor.
 */
final class DirectIo {

    private static final Logger LOG = LoggerFactory.getLogger(DirectIo.class);
    private static final long BITFIELD_OFFSET = 4;
    private static final int DIRECT_IO_BIT = 1 << 1;

    private final Method segment;

    private DirectIo(Method segment) {
        this.segment = segment;
    }

    /** Finds the accessor once per mount; fails the mount if jfuse changed shape, rather than silently caching values. */
    static DirectIo forJfuse() throws MountException {
        try {
            Class<?> type = Class.forName("org.cryptomator.jfuse.linux.amd64.FileInfoImpl");
            Method accessor = type.getDeclaredMethod("segment");
            accessor.setAccessible(true);
            return new DirectIo(accessor);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new MountException("this jfuse build does not expose fuse_file_info (" + e + "); tresor mount needs "
                    + "jfuse-linux-amd64 0.7.3 to turn on direct I/O", e);
        }
    }

    void enable(FileInfo fi) {
        try {
            MemorySegment struct = (MemorySegment) segment.invoke(fi);
            int bits = struct.get(ValueLayout.JAVA_INT, BITFIELD_OFFSET);
            struct.set(ValueLayout.JAVA_INT, BITFIELD_OFFSET, bits | DIRECT_IO_BIT);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.error("tresor mount: cannot set direct_io on an open file ({})", e.toString());
        }
    }
}
