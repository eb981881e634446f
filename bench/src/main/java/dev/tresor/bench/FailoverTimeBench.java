package dev.tresor.bench;

import dev.tresor.ca.TrustMaterial;
import dev.tresor.client.api.ApiReply;
import dev.tresor.client.api.ApiRequest;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Failover time seen by a client when a node dies (issue 17). Three {@code tresor server}
 * processes on one PostgreSQL; one reader thread reads a secret back to back through
 * {@link TresorHttp} with {@code TRESOR_ADDR}-style addresses of all three and the CLI's default
 * options (100 ms pause before the next node). The node that answered the last read is SIGKILLed;
 * a sample is the time from just before the kill to the end of the next successful read. The
 * killed node is started again (and must be ready) before the next kill.
 *
 * <pre>java ... dev.tresor.bench.FailoverTimeBench --root REPO --dir D --kills 6 --out FILE.md</pre>
 */
public final class FailoverTimeBench {

    record Sample(int kill, int node, double millis, double goneMillis, double freshMillis, double loadAverage) {}

    private FailoverTimeBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path dir = a.path("dir");
        int kills = a.integer("kills", 6);
        Path out = Path.of(a.string("out", "bench/results/failover-time.md"));
        a.checkAllUsed();
        Reports.Machine machine = Reports.Machine.describe();
        long began = System.nanoTime();
        List<Sample> samples = new ArrayList<>();
        AtomicLong reads = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong notOk = new AtomicLong();
        try (Cluster cluster = Cluster.create(root, dir, 3)) {
            cluster.start(cluster.nodes());
            DataDir.Credentials reader = cluster.reader();
            ServerAddresses addresses = new ServerAddresses(cluster.nodes().stream().map(Cluster.Node::api).toList());
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicReference<URI> lastNode = new AtomicReference<>();
            AtomicLong lastSuccessEnd = new AtomicLong();
            try (TresorHttp http = new TresorHttp(addresses,
                    TlsSource.fixed(TrustMaterial.clientContext(reader.cert(), reader.key(), reader.ca())),
                    TresorHttp.Options.defaults("tresor-bench"))) {
                String path = Cluster.readPaths().getFirst().substring("/v1/".length());
                Thread loop = Thread.ofPlatform().name("reader").start(() -> {
                    while (running.get()) {
                        try {
                            ApiReply reply = http.send(ApiRequest.get(path));
                            if (reply.status() == 200) {
                                lastNode.set(reply.node());
                                lastSuccessEnd.set(System.nanoTime());
                                reads.incrementAndGet();
                            } else {
                                notOk.incrementAndGet();
                            }
                        } catch (TransportException e) {
                            failed.incrementAndGet(); // no node answered: a read the client saw fail
                        }
                    }
                });
                waitForReads(reads, 200);
                for (int k = 0; k < kills; k++) {
                    URI current = lastNode.get();
                    Cluster.Node victim = cluster.nodes().stream().filter(n -> n.api().equals(current)).findFirst()
                            .orElseThrow(() -> new IllegalStateException("no node answers at " + current));
                    long killedAt = System.nanoTime();
                    victim.server.kill();
                    double gone = (System.nanoTime() - killedAt) / 1e6;
                    victim.server = null;
                    long deadline = killedAt + 30_000_000_000L;
                    while (lastSuccessEnd.get() <= killedAt && System.nanoTime() < deadline) {
                        Thread.sleep(0, 100_000);
                    }
                    double ms = (lastSuccessEnd.get() - killedAt) / 1e6;
                    double fresh = freshRead(lastNode.get(), reader, path);
                    Sample s = new Sample(k + 1, victim.number, ms, gone, fresh, ProcStat.loadAverage());
                    samples.add(s);
                    System.out.printf(Locale.ROOT, "kill %d: node %d, next successful read after %.1f ms (to %s)%n", s.kill(),
                            s.node(), s.millis(), lastNode.get());
                    cluster.start(List.of(victim)); // back before the next kill, as after a supervisor restart
                    waitForReads(reads, reads.get() + 200);
                }
                running.set(false);
                loop.join();
            }
        }
        double took = (System.nanoTime() - began) / 1e9;
        String report = report(samples, machine, reads.get(), failed.get(), notOk.get(), took);
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    /** One read by a new client on a new connection to {@code node}: the handshake and request a failover pays. */
    private static double freshRead(URI node, DataDir.Credentials reader, String path) {
        try (TresorHttp fresh = new TresorHttp(ServerAddresses.of(node),
                TlsSource.fixed(TrustMaterial.clientContext(reader.cert(), reader.key(), reader.ca())),
                TresorHttp.Options.defaults("tresor-bench"))) {
            long t0 = System.nanoTime();
            int status = fresh.send(ApiRequest.get(path)).status();
            if (status != 200) {
                throw new IllegalStateException("a fresh read on " + node + " answered " + status);
            }
            return (System.nanoTime() - t0) / 1e6;
        }
    }

    private static void waitForReads(AtomicLong reads, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (reads.get() < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the reader made no progress for 60 s");
            }
            Thread.sleep(5);
        }
    }

    private static String report(List<Sample> samples, Reports.Machine machine, long reads, long failed, long notOk,
                                 double took) {
        StringBuilder table = new StringBuilder("| kill | node killed | kill → next successful read | kill → process gone "
                + "| a new client's first read on the next node | load avg (1 min) |\n|---:|---:|---:|---:|---:|---:|\n");
        for (Sample s : samples) {
            table.append(String.format(Locale.ROOT, "| %d | %d | %.1f ms | %.1f ms | %.1f ms | %.2f |%n", s.kill(), s.node(),
                    s.millis(), s.goneMillis(), s.freshMillis(), s.loadAverage()));
        }
        double[] ms = samples.stream().mapToDouble(Sample::millis).sorted().toArray();
        double p50 = ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        return String.format(Locale.ROOT, """
                # Failover time seen by a client when a node dies

                `bench/failover-time.sh` (`FailoverTimeBench`), %s. Machine at start: %s.

                Three `tresor server` processes (production JVM flags) on one data folder and one embedded PostgreSQL 18
                database. One client thread reads one secret back to back through `TresorHttp` (the client library the
                CLI, agent and tunnel use) given all three addresses, as `TRESOR_ADDR=a,b,c`, with the default options
                (5 s connect timeout, 100 ms pause before trying the next node). The node that answered the client's
                last read is SIGKILLed; a sample is the time from just before the kill to the end of the client's next
                successful read (on another node). The killed node is restarted and the client reads on for a while
                before the next kill. The whole run took %.0f s.

                %s
                **p50 %.1f ms, max %.1f ms over %d kills.** %d successful reads in all; %d reads failed (no node
                answered) and %d answered with a status other than 200.

                What the time is made of, as far as measured: "kill → process gone" is until the kernel has reaped
                the killed JVM (its connections are reset by then at the latest); then the read in flight fails, and
                as a read is safe to repeat, the client pauses 100 ms (its backoff before the next node) and opens a
                new mTLS connection to the next node. "A new client's first read" is that handshake plus one read,
                timed separately right after the sample on the node that took over (a new client, so not the same
                moment). A node that hangs instead of dying (no reset) is found by the request timeout instead (30 s
                by default), which this run does not exercise.

                The nodes, PostgreSQL and the client share this machine's cores (and anything else that ran
                meanwhile: the load average column says how busy it was); the restart of each killed node (a JVM
                start) runs beside the client's reads.
                """, java.time.LocalDate.now(java.time.ZoneOffset.UTC), machine.markdown(), took, table, p50,
                ms.length == 0 ? Double.NaN : ms[ms.length - 1], ms.length, reads, failed, notOk);
    }
}
