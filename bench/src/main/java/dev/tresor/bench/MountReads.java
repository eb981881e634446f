package dev.tresor.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Small-file reads/s through a mount: each of N threads opens, reads to EOF and closes the file in
 * a loop (every open is one audited server read). JDK only, so bench/mount.sh runs it as a source
 * file without a build: {@code java MountReads.java FILE SECONDS THREADS}.
 */
public final class MountReads {

    private MountReads() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long seconds = Long.parseLong(args[1]);
        int threads = Integer.parseInt(args[2]);
        LongAdder reads = new LongAdder();
        LongAdder failures = new LongAdder();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            workers.add(Thread.ofPlatform().start(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                while (running.get()) {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                        buffer.clear();
                        while (channel.read(buffer) > 0) {
                            buffer.clear();
                        }
                        reads.increment();
                    } catch (IOException e) {
                        failures.increment();
                    }
                }
            }));
        }
        // Warm-up second (JIT, connection pool), then the measured window.
        Thread.sleep(1000);
        long start = System.nanoTime();
        long before = reads.sum();
        Thread.sleep(seconds * 1000);
        long done = reads.sum() - before;
        double elapsed = (System.nanoTime() - start) / 1e9;
        running.set(false);
        for (Thread worker : workers) {
            worker.join();
        }
        System.out.printf("%d %.0f %d%n", threads, done / elapsed, failures.sum());
    }
}
