package dev.tresor.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live mount: the FUSE filesystem, its API client and the refresh loop. {@link #close} unmounts,
 * stops the loop and zeroes every value still held by an open file; it is what SIGTERM/SIGINT run
 * (the CLI registers it as a shutdown hook).
 */
public final class TresorMount implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TresorMount.class);

    /**
     * Mount options. {@code ro}: the kernel refuses writes before they reach us.
     * {@code default_permissions}: the kernel enforces the 0400/0500 modes and our uid, so even root's
     * other processes go through normal permission checks (and without {@code allow_other} no other
     * user can enter the mount at all). Direct I/O is set per open file ({@link DirectIo}). No kernel caching of
     * names or attributes (timeouts 0): every lookup and stat is answered from the tree in memory
     * (microseconds, no server call), so a revoked file is gone and a new version's size is right
     * the moment the tree changes, instead of up to a timeout later.
     */
    static final String OPTIONS = "ro,default_permissions,fsname=tresor,subtype=tresor,"
            + "entry_timeout=0,attr_timeout=0,negative_timeout=0";

    private final MountSettings settings;
    private final SecretsApi api;
    private final TresorFileSystem fs;
    private final Fuse fuse;
    private final TreeRefresher refresher;
    private final Thread refreshThread;
    private final ChangeFeed feed;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread watchdog;
    private static final Duration WATCHDOG_INTERVAL = Duration.ofSeconds(1);
    private final String note;
    private boolean closing;

    private TresorMount(MountSettings settings, SecretsApi api, TresorFileSystem fs, Fuse fuse, TreeRefresher refresher,
                        ChangeFeed feed, String note) {
        this.feed = feed;
        this.settings = settings;
        this.api = api;
        this.fs = fs;
        this.fuse = fuse;
        this.refresher = refresher;
        this.note = note;
        this.refreshThread = Thread.ofVirtual().name("tresor-mount-refresh").unstarted(refresher);
        this.watchdog = Thread.ofVirtual().name("tresor-mount-watchdog").unstarted(this::watchMountTable);
    }

    /**
     * Someone ran {@code fusermount3 -u DIR} (or {@code umount}): the FUSE loop has ended, so end
     * the process too instead of idling with values in memory. Reading mountinfo once a second
     * costs next to nothing.
     */
    private void watchMountTable() {
        while (!isClosing()) {
            try {
                Thread.sleep(WATCHDOG_INTERVAL);
            } catch (InterruptedException e) {
                return;
            }
            if (!isClosing() && MountTable.at(settings.mountPoint()).isEmpty()) {
                LOG.warn("tresor mount: {} was unmounted from outside; stopping", settings.mountPoint());
                close();
                return;
            }
        }
    }

    private synchronized boolean isClosing() {
        return closing;
    }

    /**
     * Lists what the client may read, then mounts it at {@code settings.mountPoint()}. Fails with a
     * message meant for the user: no fuse3, a stale or live mount in the way, a server that
     * cannot be reached or refuses the certificate.
     */
    public static TresorMount mount(MountSettings settings) throws MountException {
        return mount(settings, null);
    }

    /** As {@link #mount(MountSettings)}, with the tree refresh driven by {@code feed} instead of the server's change feed. */
    static TresorMount mount(MountSettings requested, ChangeFeed feed) throws MountException {
        requireFuse(requested.libfuse());
        String note = MountTable.prepare(requested.mountPoint());
        // The kernel's mount table names the resolved path: use it everywhere (watchdog, unmount).
        MountSettings settings = requested.withMountPoint(realPath(requested.mountPoint()));
        Path dir = settings.mountPoint();
        if (note != null) {
            LOG.warn("tresor mount: {}", note);
        }
        SecretsApi api = new SecretsApi(settings);
        try {
            ChangeFeed chosen = feed != null ? feed : new WatchFeed(api, settings.watchWait(), settings.pollInterval());
            FuseBuilder builder = Fuse.builder();
            builder.setLibraryPath(settings.libfuse().toString());
            TresorFileSystem fs = new TresorFileSystem(builder.errno(), api, DirectIo.forJfuse(), currentId("unix:uid"), currentId("unix:gid"),
                    Instant.now());
            TreeRefresher refresher = new TreeRefresher(api, chosen, fs::publish);
            try {
                fs.publish(refresher.initial());
            } catch (ApiFailure e) {
                throw new MountException("cannot list the secrets at " + settings.servers() + ": " + e.getMessage()
                        + (e.status() == 401 || e.status() == 403 ? " (is this client registered on the server?)" : ""), e);
            }
            Fuse fuse = builder.build(fs);
            try {
                fuse.mount("tresor", dir, "-o", OPTIONS);
            } catch (FuseMountFailedException | IllegalArgumentException e) {
                closeQuietly(fuse);
                throw new MountException("cannot mount on " + dir + ": " + e.getMessage(), e);
            }
            TresorMount mount = new TresorMount(settings, api, fs, fuse, refresher, chosen, note);
            mount.refreshThread.start();
            mount.watchdog.start();
            LOG.info("tresor mount: {} secret(s) of {} mounted read-only at {}; tree follows the {}", fs.tree().size(),
                    settings.servers(), dir, chosen.describe());
            return mount;
        } catch (MountException | RuntimeException | InterruptedException e) {
            api.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new MountException("interrupted while mounting", e);
            }
            throw e instanceof MountException m ? m : new MountException("cannot mount on " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Path realPath(Path dir) throws MountException {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            throw new MountException("cannot resolve " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void requireFuse(Path libfuse) throws MountException {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new MountException("/dev/fuse does not exist: this kernel (or container) offers no FUSE; "
                    + "load the fuse module or run the container with --device /dev/fuse");
        }
        if (!Files.isReadable(libfuse)) {
            throw new MountException("libfuse3 not found at " + libfuse + "; install it (apt-get install fuse3)");
        }
    }

    private static int currentId(String attribute) {
        try {
            // /proc/self belongs to the process's effective user and group: the mounting user.
            return (Integer) Files.getAttribute(Path.of("/proc/self"), attribute);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the current " + attribute + ": " + e.getMessage(), e);
        }
    }

    /** A note about what was done before mounting (a stale mount cleared), or null. */
    public String note() {
        return note;
    }

    /** How the tree follows the server: "change feed (long-poll ...)" or the re-list timer of a server without one. */
    public String refreshMode() {
        return feed.describe();
    }

    public Path mountPoint() {
        return settings.mountPoint();
    }

    /** How many secrets the current tree shows. */
    public int secretCount() {
        return fs.tree().size();
    }

    /** Value reads from the server so far (one per open, one per first stat of a version). */
    public long serverReads() {
        return fs.serverReads();
    }

    TresorFileSystem fileSystem() {
        return fs;
    }

    /** Blocks until {@link #close} has finished (the CLI's main thread waits here for SIGTERM/SIGINT). */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Unmounts (lazily if something still holds the mount busy), stops the refresh, zeroes every held value. */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        try {
            refresher.stop();
            refreshThread.interrupt();
            if (Thread.currentThread() != watchdog) {
                watchdog.interrupt();
            }
            closeQuietly(fuse);
            if (MountTable.at(settings.mountPoint()).isPresent()) {
                String failure = MountTable.unmount(settings.mountPoint(), true);
                if (failure != null) {
                    LOG.warn("tresor mount: could not unmount {} ({}); run `fusermount3 -u {}`", settings.mountPoint(),
                            failure, settings.mountPoint());
                }
            }
            fs.handles().wipeAll();
            api.close();
            LOG.info("tresor mount: unmounted {}", settings.mountPoint());
        } finally {
            closed.countDown();
        }
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (TimeoutException | RuntimeException e) {
            LOG.warn("tresor mount: the FUSE loop did not stop cleanly: {}", e.toString());
        }
    }
}
