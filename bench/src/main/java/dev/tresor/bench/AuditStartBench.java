package dev.tresor.bench;

import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditSegments;
import dev.tresor.audit.AuditStart;
import dev.tresor.audit.SegmentPolicy;
import dev.tresor.audit.FileAuditSink;
import dev.tresor.audit.WriteEpochs;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Opening an audit log at start-up against its size: from the store's checkpoint (what a server
 * does) and, for comparison, by verifying the whole chain (a log without a checkpoint: the first
 * start after an upgrade). Each size gets a log of secret-read records written through the real
 * sink, a checkpoint at its end as a clean stop leaves it, then REPS opens of each kind; prints a
 * markdown table (median and range of the open time, bytes read).
 *
 * <pre>java ... dev.tresor.bench.AuditStartBench --sizes-mb 10,100,1000 --reps 3 --dir /tmp/x --out FILE.md</pre>
 */
public final class AuditStartBench {

    private record Run(long sizeBytes, long records, List<Double> checkpointMs, long checkpointBytes,
                       List<Double> fullMs, long fullBytes) {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        List<Integer> sizes = args.integers("sizes-mb", "10,100,1000");
        int reps = args.integer("reps", 3);
        Path dir = args.path("dir");
        Path out = Path.of(args.string("out", "bench/results/audit-startup.md"));
        long segmentMb = args.integer("segment-mb", 0);
        SegmentPolicy segments = segmentMb == 0 ? SegmentPolicy.NONE : new SegmentPolicy(segmentMb << 20, null);
        Files.createDirectories(dir);
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        List<Run> runs = new ArrayList<>();
        for (int mb : sizes) {
            Path log = dir.resolve("size-" + mb + "mb").resolve("audit.log");
            runs.add(measure(log, kek, mb * 1024L * 1024L, reps, segments));
            deleteTree(log.getParent());
        }
        String report = report(runs, reps, sizes, segmentMb);
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static Run measure(Path log, LocalKeyProvider kek, long targetBytes, int reps, SegmentPolicy segments)
            throws Exception {
        WriteEpochs epochs = new WriteEpochs(7, 11);
        AuditStart fresh = AuditStart.of(Optional.empty(), false, epochs, null);
        String checkpoint;
        AtomicLong written = new AtomicLong();
        AtomicLong onDisk = new AtomicLong();
        try (FileAuditSink sink = new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL, Clock.systemUTC(), fresh,
                segments);
             ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int writer = t;
                done.add(writers.submit(() -> {
                    long i = 0;
                    while (onDisk.get() < targetBytes) {
                        for (int k = 0; k < 1000; k++, i++) {
                            sink.append(new AuditEvent(Instant.now(), "req-" + writer + "-" + i, "openemr",
                                    "secret.read", "openemr/mariadb", 3, "allowed", 200, "10.0.0." + writer, null));
                        }
                        written.addAndGet(1000);
                        onDisk.set(totalSize(log));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            checkpoint = sink.checkpoint(epochs).record();
        }
        long size = totalSize(log);
        AuditStart fromCheckpoint = AuditStart.of(Optional.of(checkpoint), true, epochs, null);
        List<Double> checkpointMs = new ArrayList<>();
        List<Double> fullMs = new ArrayList<>();
        long checkpointBytes = 0;
        long fullBytes = 0;
        for (int r = 0; r < reps; r++) {
            long start = System.nanoTime();
            try (FileAuditSink sink = new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL, Clock.systemUTC(),
                    fromCheckpoint, segments)) {
                checkpointMs.add((System.nanoTime() - start) / 1e6);
                checkpointBytes = sink.bytesVerifiedAtOpen();
            }
            start = System.nanoTime();
            try (FileAuditSink sink = new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL, Clock.systemUTC())) {
                fullMs.add((System.nanoTime() - start) / 1e6);
                fullBytes = sink.bytesVerifiedAtOpen();
            }
        }
        System.err.printf(Locale.ROOT, "%d MB: checkpoint %s ms, full %s ms%n", size >> 20, checkpointMs, fullMs);
        return new Run(size, written.get(), checkpointMs, checkpointBytes, fullMs, fullBytes);
    }

    private static long totalSize(Path log) {
        try {
            long total = Files.exists(log) ? Files.size(log) : 0;
            for (AuditSegments.Segment s : AuditSegments.closed(log)) {
                total += Files.size(s.file());
            }
            return total;
        } catch (IOException e) {
            return 0; // a cut renames files under our feet; the next call sees them
        }
    }

    private static String report(List<Run> runs, int reps, List<Integer> sizes, long segmentMb) {
        StringBuilder b = new StringBuilder();
        b.append("# Audit log start-up against log size").append(segmentMb > 0 ? " (segmented log)" : "").append("\n\n");
        b.append("Made by `bench/audit-startup.sh ").append(sizes.toString().replaceAll("[\\[\\] ]", ""))
                .append(' ').append(reps).append(segmentMb > 0 ? " " + segmentMb : "").append("`: for each size, a log of `secret.read` records written through the real `FileAuditSink` ")
                .append("(8 writers), a checkpoint at its end as a clean stop leaves it, then ").append(reps)
                .append(" opens from the store's checkpoint (what `tresor server` does) and ").append(reps)
                .append(" opens that verify the whole chain (a log without a checkpoint). Open time = the sink's constructor: ")
                .append("verification, repair check, the open record and its write. Page cache warm (the log was just written).")
                .append(segmentMb > 0 ? " The log is cut into segments of " + segmentMb + " MB (`audit-<first-seq>.log`);"
                        + " \"whole chain\" then means the segment being written, which is all a start without a checkpoint"
                        + " reads (closed segments are checked by `tresor audit verify DIR`)." : "")
                .append("\n\n");
        b.append("Machine: ").append(Reports.Machine.describe().markdown()).append("\n\n");
        b.append("| log size | records | open from checkpoint: ms median (min-max) | bytes read | whole chain: ms median (min-max) | bytes read |\n");
        b.append("|---:|---:|---:|---:|---:|---:|\n");
        for (Run r : runs) {
            b.append(String.format(Locale.ROOT, "| %d MB | %,d | %s | %,d | %s | %,d |%n", r.sizeBytes() >> 20, r.records(),
                    spread(r.checkpointMs()), r.checkpointBytes(), spread(r.fullMs()), r.fullBytes()));
        }
        return b.toString();
    }

    private static String spread(List<Double> ms) {
        List<Double> sorted = ms.stream().sorted().toList();
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
