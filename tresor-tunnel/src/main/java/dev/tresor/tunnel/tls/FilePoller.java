package dev.tresor.tunnel.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when files change by polling their attributes (modification time, size and inode,
 * following symbolic links). Polling rather than inotify because the usual ways certificates
 * are replaced (a rename over the file, a Kubernetes secret volume swapping its {@code ..data}
 * link) are all seen the same way, on every file system, and a few stat calls a second cost
 * nothing.
 */
public final class FilePoller implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FilePoller.class);

    private final ScheduledExecutorService executor;
    private final List<Watch> watches = new CopyOnWriteArrayList<>();

    public FilePoller(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the reload interval must be positive");
        }
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("tunnel-file-poller").factory());
        executor.scheduleWithFixedDelay(this::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Calls {@code onChange} (on the poller's thread) whenever any of {@code files} looks different from the last poll. */
    public void watch(List<Path> files, Runnable onChange) {
        watches.add(new Watch(List.copyOf(files), onChange, new Object[] {stamp(files)}));
    }

    private void poll() {
        for (Watch watch : watches) {
            String now = stamp(watch.files());
            if (!now.equals(watch.last()[0])) {
                watch.last()[0] = now;
                try {
                    watch.onChange().run();
                } catch (RuntimeException e) {
                    // The callbacks handle their own errors; this only keeps the poller alive.
                    LOG.warn("reloading {} failed: {}", watch.files(), e.toString());
                }
            }
        }
    }

    /** The attributes that change when a file is rewritten or replaced; "missing" for a file that is not there. */
    static String stamp(List<Path> files) {
        StringBuilder out = new StringBuilder();
        for (Path file : files) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                out.append(attributes.lastModifiedTime().toMillis()).append('/').append(attributes.size()).append('/')
                        .append(attributes.fileKey()).append(';');
            } catch (NoSuchFileException e) {
                out.append("missing;");
            } catch (IOException e) {
                out.append("unreadable:").append(e.getMessage()).append(';');
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** {@code last} holds the stamp of the previous poll; only the poller thread touches it after registration. */
    private record Watch(List<Path> files, Runnable onChange, Object[] last) {
    }
}
