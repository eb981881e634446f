package dev.tresor.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop load: {@code connections} keep-alive HTTPS/1.1 connections (TLS handshakes
 * before the clock starts), each sending its next request as soon as the previous answer is
 * read. A warm-up runs first; then a window that ends after {@code duration} or
 * {@code maxRequests} measured requests, whichever is first. Only requests sent and answered
 * inside the window count for throughput and latency; errors count from the first request. The
 * CPU of the given server processes is sampled at the window's two ends.
 */
final class LoadGenerator {

    private static final int TIMEOUT_MILLIS = 15_000;

    /** The longest a window waits, after its warm-up, for the server to settle. */
    static final Duration MAX_SETTLE = Duration.ofSeconds(30);

    /**
     * @param okStatus which statuses count as success (others are errors)
     * @param settle   null, or a check sampled every second after the warm-up, under load: the
     *                 window starts at its first {@code true} (or after {@link #MAX_SETTLE})
     */
    record Spec(String label, Endpoint endpoint, RequestPlan plan, int connections, Duration warmup, Duration duration,
                long maxRequests, List<Long> serverPids, java.util.function.IntPredicate okStatus,
                java.util.function.BooleanSupplier settle) {

        Spec(String label, Endpoint endpoint, RequestPlan plan, int connections, Duration warmup, Duration duration,
             long maxRequests, List<Long> serverPids, java.util.function.IntPredicate okStatus) {
            this(label, endpoint, plan, connections, warmup, duration, maxRequests, serverPids, okStatus, null);
        }

        Spec {
            if (connections < 1 || connections > 1024) {
                throw new IllegalArgumentException("connections must be 1..1024");
            }
            if (duration.isZero() || duration.compareTo(Duration.ofHours(2)) > 0) {
                throw new IllegalArgumentException("duration must be more than 0 and at most 2 h");
            }
        }

        static java.util.function.IntPredicate success() {
            return s -> s >= 200 && s < 300;
        }
    }

    private LoadGenerator() {}

    static LoadResult run(Spec spec) throws InterruptedException {
        Run run = new Run(spec);
        return run.execute();
    }

    /** The state of one run; threads share it, nothing outlives it. */
    private static final class Run {
        private final Spec spec;
        private final java.util.concurrent.atomic.AtomicLong measured = new java.util.concurrent.atomic.AtomicLong();
        /** Opened when the measured window has seen its request cap, so the window ends exactly there. */
        private final java.util.concurrent.CountDownLatch capReached = new java.util.concurrent.CountDownLatch(1);
        private final LongAdder errors = new LongAdder();
        private final LongAdder reconnects = new LongAdder();
        private final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();
        private final AtomicReference<String> tlsInfo = new AtomicReference<>("?|?");
        private final Histogram[] histograms;
        private volatile long measureStart = Long.MAX_VALUE;
        private volatile boolean measuring;
        private volatile boolean stop;

        Run(Spec spec) {
            this.spec = spec;
            this.histograms = new Histogram[spec.connections()];
            for (int i = 0; i < histograms.length; i++) {
                histograms[i] = new Histogram(TimeUnitMicros.HOUR, 3);
            }
        }

        LoadResult execute() throws InterruptedException {
            Thread[] workers = new Thread[spec.connections()];
            java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(workers.length);
            for (int i = 0; i < workers.length; i++) {
                int id = i;
                workers[i] = Thread.ofPlatform().name("load-" + spec.label() + "-" + i).daemon().start(() -> work(id, connected));
            }
            if (!connected.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                stop = true;
                throw new IllegalStateException("could not open " + workers.length + " connections to " + spec.endpoint().port());
            }
            Thread.sleep(spec.warmup().toMillis());
            long settleStart = System.nanoTime();
            boolean settled = true;
            if (spec.settle() != null) {
                settled = spec.settle().getAsBoolean();
                while (!settled && System.nanoTime() - settleStart < MAX_SETTLE.toNanos()) {
                    Thread.sleep(1_000);
                    settled = spec.settle().getAsBoolean();
                }
            }
            double settleSeconds = (System.nanoTime() - settleStart) / 1e9;
            double load = ProcStat.loadAverage();
            double serverCpu0 = ProcStat.cpuSeconds(spec.serverPids());
            double clientCpu0 = ProcStat.ownCpuSeconds();
            long t0 = System.nanoTime();
            measureStart = t0;
            measuring = true;
            capReached.await(spec.duration().toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
            measuring = false;
            long t1 = System.nanoTime();
            double serverCpu1 = ProcStat.cpuSeconds(spec.serverPids());
            double clientCpu1 = ProcStat.ownCpuSeconds();
            stop = true;
            for (Thread w : workers) {
                w.join(TIMEOUT_MILLIS + 5_000L);
            }
            Histogram all = new Histogram(TimeUnitMicros.HOUR, 3);
            for (Histogram h : histograms) {
                synchronized (h) {
                    all.add(h);
                }
            }
            double seconds = (t1 - t0) / 1e9;
            long requests = all.getTotalCount();
            Map<String, Long> kinds = new TreeMap<>();
            errorKinds.forEach((k, v) -> kinds.put(k, v.sum()));
            String[] tls = tlsInfo.get().split("\\|");
            return new LoadResult(spec.label(), spec.connections(), seconds, requests, errors.sum(), kinds,
                    requests / seconds, all.getValueAtPercentile(50), all.getValueAtPercentile(90),
                    all.getValueAtPercentile(99), all.getValueAtPercentile(99.9), all.getMaxValue(), all.getMean(),
                    serverCpu1 - serverCpu0, clientCpu1 - clientCpu0, tls[0], tls[1], load, reconnects.sum(),
                    settleSeconds, settled);
        }

        private void work(int id, java.util.concurrent.CountDownLatch connected) {
            HttpConnection c = null;
            boolean counted = false;
            long sequence = 0;
            Histogram h = histograms[id];
            try {
                while (!stop) {
                    if (c == null) {
                        try {
                            c = HttpConnection.open(spec.endpoint(), TIMEOUT_MILLIS);
                            tlsInfo.compareAndSet("?|?", c.session().getProtocol() + "|" + c.session().getCipherSuite());
                        } catch (IOException e) {
                            error("connect " + e.getClass().getSimpleName());
                            sleepQuietly(50);
                            continue;
                        } finally {
                            if (!counted) {
                                counted = true;
                                connected.countDown();
                            }
                        }
                    }
                    byte[] request = spec.plan().request(id, sequence++);
                    long started = System.nanoTime();
                    HttpConnection.Response response;
                    try {
                        response = c.exchange(request, false);
                    } catch (IOException | RuntimeException e) {
                        error(e.getClass().getSimpleName());
                        c.close();
                        c = null;
                        reconnects.increment();
                        continue;
                    }
                    long finished = System.nanoTime();
                    if (measuring && started >= measureStart) {
                        synchronized (h) {
                            h.recordValue(Math.max(1, (finished - started) / 1000));
                        }
                        if (measured.incrementAndGet() == spec.maxRequests()) {
                            capReached.countDown();
                        }
                    }
                    if (!spec.okStatus().test(response.status())) {
                        error("status " + response.status());
                    }
                    if (response.close()) {
                        c.close();
                        c = null;
                        reconnects.increment();
                    }
                }
            } finally {
                if (c != null) {
                    c.close();
                }
                if (!counted) {
                    connected.countDown();
                }
            }
        }

        /** Errors count in warm-up too: a benchmark run must have none at all. */
        private void error(String kind) {
            errors.increment();
            errorKinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
        }

        private static void sleepQuietly(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Histogram range: one hour in microseconds. */
    private static final class TimeUnitMicros {
        static final long HOUR = 3_600_000_000L;
    }
}
