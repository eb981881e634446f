package dev.tresor.audit;

import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Prints append throughput for 1 and 16 threads (fsync interval 50 ms), straight into a
 * {@link FileAuditSink} and through {@link AuditLog} as the server calls it. A measuring tool,
 * not a test: run it by hand, e.g. {@code java -cp <test classpath> dev.tresor.audit.AuditThroughput [dir]}.
 */
public final class AuditThroughput {

    private static final Duration WARM_UP = Duration.ofSeconds(2);
    private static final Duration MEASURE = Duration.ofSeconds(4);

    private AuditThroughput() {}

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("audit-throughput");
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek-" + System.nanoTime() + ".json"));
        for (boolean viaAuditLog : new boolean[] {false, true}) {
            for (int threads : new int[] {1, 16}) {
                Path log = dir.resolve("bench-" + System.nanoTime() + ".log");
                double perSecond;
                try (FileAuditSink sink = new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL)) {
                    AuditLog audit = new AuditLog(List.of(sink), Duration.ofSeconds(2));
                    Appender append = viaAuditLog ? audit::record : sink::append;
                    run(append, threads, WARM_UP);
                    perSecond = run(append, threads, MEASURE);
                }
                System.out.printf("%-13s %2d thread(s): %,10.0f records/s   (fsync interval 50 ms; %s verifies: %s)%n",
                        viaAuditLog ? "AuditLog" : "FileAuditSink", threads, perSecond, log.getFileName(),
                        AuditVerifier.verify(log, kek).ok());
            }
        }
    }

    private interface Appender {
        void append(AuditEvent event) throws Exception;
    }

    private static double run(Appender append, int threads, Duration duration) throws InterruptedException {
        LongAdder count = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String client = "spiffe://tresor.local/ns/openemr/sa/worker-" + t;
            workers.add(Thread.ofPlatform().start(() -> {
                long i = 0;
                while (!stop.get()) {
                    try {
                        append.append(new AuditEvent(Instant.now(), "req-" + i++, client, "secret.read",
                                "db/openemr/password", 3, "allowed", 200, "10.1.2.3:51234", null));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    count.increment();
                }
            }));
        }
        long start = System.nanoTime();
        Thread.sleep(duration);
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        return count.sum() / ((System.nanoTime() - start) / 1e9);
    }
}
