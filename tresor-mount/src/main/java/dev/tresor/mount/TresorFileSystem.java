package dev.tresor.mount;

import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FUSE operations: a read-only view of the current {@link Tree}. Directory listings and
 * attributes come from the tree in memory; only {@code open} (and the first {@code stat} of a
 * version whose size is not yet known) asks the server for a value.
 *
 * <p>Sizes: the listing carries no value sizes, and {@code stat} must be right before any open
 * (tools read {@code st_size} bytes). So the first {@code stat} of each (secret, version) makes one
 * audited read, keeps only the length and zeroes the bytes; later {@code stat}s are free, and every
 * open refreshes the length. Versions never change, so a cached size never goes stale.
 */
final class TresorFileSystem implements FuseOperations {

    private static final Logger LOG = LoggerFactory.getLogger(TresorFileSystem.class);
    private static final int DIR_MODE = Stat.S_IFDIR | 0500;
    private static final int FILE_MODE = Stat.S_IFREG | 0400;

    private final Errno errno;
    private final SecretsApi api;
    private final DirectIo directIo;
    private final int uid;
    private final int gid;
    private final Instant mountedAt;
    private final OpenHandles handles = new OpenHandles();
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Long>> probes = new ConcurrentHashMap<>();
    private final AtomicLong serverReads = new AtomicLong();
    private volatile Tree tree = Tree.empty();

    TresorFileSystem(Errno errno, SecretsApi api, DirectIo directIo, int uid, int gid, Instant mountedAt) {
        this.mountedAt = mountedAt;
        this.errno = errno;
        this.api = api;
        this.directIo = directIo;
        this.uid = uid;
        this.gid = gid;
    }

    /** Swaps in a new listing; open handles of secrets it no longer has are revoked at once. */
    void publish(Tree next) {
        tree = next;
        int revoked = handles.revokeMissing(next);
        if (revoked > 0) {
            LOG.info("tresor mount: {} open file(s) of secrets no longer readable now fail with EACCES", revoked);
        }
        sizes.keySet().removeIf(key -> !next.readable(key.substring(0, key.lastIndexOf('@'))));
    }

    Tree tree() {
        return tree;
    }

    /** Value reads this mount made (opens and size probes), for tests and the bench. */
    long serverReads() {
        return serverReads.get();
    }

    OpenHandles handles() {
        return handles;
    }

    @Override
    public Errno errno() {
        return errno;
    }

    @Override
    public Set<Operation> supportedOperations() {
        return EnumSet.of(Operation.GET_ATTR, Operation.OPEN, Operation.READ, Operation.RELEASE,
                Operation.OPEN_DIR, Operation.READ_DIR, Operation.RELEASE_DIR, Operation.DESTROY);
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        Tree.Target target = tree.lookup(path);
        if (fi != null && fi.getFh() != 0) {
            OpenHandles.Handle handle = handles.get(fi.getFh());
            if (handle != null) {
                fileStat(stat, handle.length());
                return 0;
            }
        }
        return switch (target) {
            case null -> -errno.enoent();
            case Tree.Folder f -> dirStat(stat);
            case Tree.VersionsFolder v -> dirStat(stat);
            case Tree.SecretFile file -> {
                long size;
                try {
                    size = size(file);
                } catch (ApiFailure e) {
                    yield fail(e, "stat", path);
                }
                fileStat(stat, size);
                if (file.secret().updatedAt() != null) {
                    stat.mTime().set(file.secret().updatedAt());
                    stat.cTime().set(file.secret().updatedAt());
                }
                yield 0;
            }
        };
    }

    private int dirStat(Stat stat) {
        // Folders exist only as prefixes of names: the mount's start is the honest time to give them.
        stat.mTime().set(mountedAt);
        stat.cTime().set(mountedAt);
        stat.setMode(DIR_MODE);
        stat.setNLink((short) 2);
        stat.setUid(uid);
        stat.setGid(gid);
        return 0;
    }

    private void fileStat(Stat stat, long size) {
        stat.setMode(FILE_MODE);
        stat.setNLink((short) 1);
        stat.setUid(uid);
        stat.setGid(gid);
        stat.setSize(size);
    }

    @Override
    public int open(String path, FileInfo fi) {
        Set<StandardOpenOption> flags = fi.getOpenFlags();
        if (flags.contains(StandardOpenOption.WRITE) || flags.contains(StandardOpenOption.APPEND)
                || flags.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
            return -errno.erofs();
        }
        return switch (tree.lookup(path)) {
            case null -> -errno.enoent();
            case Tree.Folder f -> -errno.eisdir();
            case Tree.VersionsFolder v -> -errno.eisdir();
            case Tree.SecretFile file -> {
                byte[] value;
                try {
                    value = fetch(file);
                } catch (ApiFailure e) {
                    yield fail(e, "open", path);
                }
                sizes.put(key(file), (long) value.length);
                fi.setFh(handles.add(new OpenHandles.Handle(file.secret().name(), file.version(), value)));
                directIo.enable(fi);
                // A revoke that landed while the value was on its way must still win.
                if (!tree.readable(file.secret().name())) {
                    handles.release(fi.getFh());
                    yield -errno.eacces();
                }
                yield 0;
            }
        };
    }

    @Override
    public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        OpenHandles.Handle handle = handles.get(fi.getFh());
        if (handle == null) {
            return -errno.ebadf();
        }
        int n = handle.copy(buf, size, offset);
        if (n == -1) {
            return -errno.eacces();
        }
        return n < 0 ? -errno.ebadf() : n;
    }

    @Override
    public int release(String path, FileInfo fi) {
        handles.release(fi.getFh());
        return 0;
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        return switch (tree.lookup(path)) {
            case null -> -errno.enoent();
            case Tree.SecretFile f -> -errno.enotdir();
            default -> 0;
        };
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        Iterable<String> names = switch (tree.lookup(path)) {
            case null -> null;
            case Tree.Folder f -> f.children();
            case Tree.VersionsFolder v -> Tree.versionNames(v.secret());
            case Tree.SecretFile f -> null;
        };
        if (names == null) {
            return -errno.enoent();
        }
        try {
            filler.fill(".");
            filler.fill("..");
            for (String name : names) {
                filler.fill(name);
            }
        } catch (java.io.IOException e) {
            return -errno.enomem();
        }
        return 0;
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public void destroy() {
        handles.wipeAll();
    }

    /**
     * The size of a version: cached, or learnt by one read whose bytes are zeroed at once. The
     * kernel asks for the attributes of a new file several times in parallel (lookup, getattr):
     * concurrent askers share one probe instead of each making an audited read.
     */
    private long size(Tree.SecretFile file) throws ApiFailure {
        String key = key(file);
        Long known = sizes.get(key);
        if (known != null) {
            return known;
        }
        CompletableFuture<Long> mine = new CompletableFuture<>();
        CompletableFuture<Long> probe = probes.putIfAbsent(key, mine);
        if (probe == null) {
            probe = mine;
            try {
                byte[] value = fetch(file);
                long length = value.length;
                Arrays.fill(value, (byte) 0);
                sizes.put(key, length);
                mine.complete(length);
            } catch (ApiFailure | RuntimeException e) {
                mine.completeExceptionally(e);
            } finally {
                probes.remove(key, mine);
            }
        }
        try {
            return probe.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof ApiFailure failure) {
                throw failure;
            }
            throw e;
        }
    }

    private byte[] fetch(Tree.SecretFile file) throws ApiFailure {
        serverReads.incrementAndGet();
        return api.read(file.secret().name(), file.version());
    }

    /** Maps a failed server call to an errno, with one log line that says what happened (never a value). */
    private int fail(ApiFailure e, String operation, String path) {
        if (e.unreachable()) {
            LOG.warn("tresor mount: {} {} fails with EIO: {}", operation, path, e.getMessage());
            return -errno.eio();
        }
        return switch (e.status()) {
            case 401, 403 -> {
                LOG.warn("tresor mount: {} {} fails with EACCES: the server refused the read ({})", operation, path, e.getMessage());
                yield -errno.eacces();
            }
            case 404 -> -errno.enoent();
            case 410 -> {
                LOG.warn("tresor mount: {} {} fails with EACCES: that version has expired", operation, path);
                yield -errno.eacces();
            }
            default -> {
                LOG.warn("tresor mount: {} {} fails with EIO: {}", operation, path, e.getMessage());
                yield -errno.eio();
            }
        };
    }

    private static String key(Tree.SecretFile file) {
        return file.secret().name() + "@" + file.version();
    }
}
