package dev.tresor.bench;

import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditQuery;
import dev.tresor.audit.AuditSegments;
import dev.tresor.audit.AuditStart;
import dev.tresor.audit.FileAuditSink;
import dev.tresor.audit.SegmentPolicy;
import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * {@code GET /v1/audit} over a large segmented log: the query the route runs
 * ({@link AuditQuery#read}), in process, for the newest page, a recent time window, an older page
 * by cursor, and a filter that matches almost nothing (the worst case: every segment is read).
 * Writes a log of SIZE MB of secret-read records with 8 writers through the real sink, cut into
 * segments of SEGMENT MB; prints a markdown table (median and range of REPS runs, page cache warm).
 *
 * <pre>java ... dev.tresor.bench.AuditQueryBench --size-mb 1024 --segment-mb 256 --reps 5 --dir /tmp/x --out FILE.md</pre>
 */
public final class AuditQueryBench {

    private record Case(String name, Supplier<AuditQuery.Page> query) {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        long sizeBytes = args.integer("size-mb", 1024) * 1024L * 1024L;
        long segmentBytes = args.integer("segment-mb", 256) * 1024L * 1024L;
        int reps = args.integer("reps", 5);
        Path dir = args.path("dir");
        Path out = Path.of(args.string("out", "bench/results/audit-query.md"));
        Files.createDirectories(dir);
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        Path log = dir.resolve("audit.log");

        AtomicLong written = new AtomicLong();
        AtomicLong onDisk = new AtomicLong();
        Instant started = Instant.now();
        try (FileAuditSink sink = new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL, Clock.systemUTC(),
                AuditStart.unanchored(), new SegmentPolicy(segmentBytes, null));
             ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int writer = t;
                done.add(writers.submit(() -> {
                    long i = 0;
                    while (onDisk.get() < sizeBytes) {
                        for (int k = 0; k < 1000; k++, i++) {
                            // one record in 100 000 is by a rare client: the needle of the worst-case filter
                            String client = (i % 100_000 == 7 && writer == 0) ? "auditor" : "openemr";
                            sink.append(new AuditEvent(Instant.now(), "req-" + writer + "-" + i, client, "secret.read",
                                    "openemr/mariadb", 3, "allowed", 200, "10.0.0." + writer, null));
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
        }
        Instant finished = Instant.now();
        int segments = AuditSegments.closed(log).size() + 1;
        long size = totalSize(log);
        long middle = written.get() / 2;
        System.err.printf(Locale.ROOT, "wrote %,d records, %d MB in %d segments in %s%n", written.get(), size >> 20,
                segments, Duration.between(started, finished));

        List<Case> cases = List.of(
                new Case("newest 100 records (`GET /v1/audit`)", () -> read(log, null, null, 100, null)),
                new Case("records of the last 5 s (`?since=5s`)", () -> read(log, finished.minusSeconds(5), null, 10_000, null)),
                new Case("page of 100 before the middle seq (`?before=" + middle + "&limit=100`)",
                        () -> read(log, null, null, 100, middle)),
                new Case("a client with 1 record in 100 000, all of the log (`?client=auditor&limit=10000`)",
                        () -> read(log, null, "auditor", 10_000, null)));
        StringBuilder b = new StringBuilder();
        b.append("# Audit query over a segmented log\n\n");
        b.append(String.format(Locale.ROOT, "Made by `bench/audit-query.sh %d %d %d`: a log of %,d `secret.read` records"
                + " (%d MB, %d segments of up to %d MB) written through the real `FileAuditSink` by 8 writers, then each"
                + " query %d times as `GET /v1/audit` runs it (`AuditQuery.read`, in process: the HTTP and TLS cost of"
                + " one answer is not included). Page cache warm (the log was just written). The machine's two cores"
                + " were shared with other builds while this ran, so treat the figures as upper bounds.%n%n",
                sizeBytes >> 20, segmentBytes >> 20, reps, written.get(), size >> 20, segments, segmentBytes >> 20, reps));
        b.append("Machine: ").append(Reports.Machine.describe().markdown()).append("\n\n");
        b.append("| query | records returned | ms median (min-max) |\n|---|---:|---:|\n");
        for (Case c : cases) {
            List<Double> ms = new ArrayList<>();
            int returned = 0;
            for (int r = 0; r < reps; r++) {
                long start = System.nanoTime();
                returned = c.query().get().records().size();
                ms.add((System.nanoTime() - start) / 1e6);
            }
            System.err.printf(Locale.ROOT, "%s: %s ms%n", c.name(), ms);
            b.append(String.format(Locale.ROOT, "| %s | %,d | %s |%n", c.name(), returned, spread(ms)));
        }
        String report = b.toString();
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static AuditQuery.Page read(Path log, Instant since, String client, int limit, Long before) {
        try {
            return AuditQuery.read(log, since, client, null, limit, before);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long totalSize(Path log) {
        try {
            long total = Files.exists(log) ? Files.size(log) : 0;
            for (AuditSegments.Segment s : AuditSegments.closed(log)) {
                total += Files.size(s.file());
            }
            return total;
        } catch (java.io.IOException e) {
            return 0; // a cut renames files under our feet; the next call sees them
        }
    }

    private static String spread(List<Double> ms) {
        List<Double> sorted = ms.stream().sorted().toList();
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast());
    }
}
