package dev.tresor.bench;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.keys.KeyringRotation;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tresor key rotate --keyring} against the store's size: N secrets with one version each in
 * a real SQLite file; then, for each batch size and pause, a full keyring rotation (new primary,
 * every data key re-wrapped, old key retired) while one writer puts new versions of random
 * secrets back to back. Reports the re-wrap rate and the writer's latency before and during the
 * rotation (the batches hold the head locks every writer takes). In-process, through the same
 * {@link KeyringRotation} the server's background job runs.
 *
 * <pre>java ... dev.tresor.bench.KeyringRotationBench --secrets 5000 --batches 50,200 --pauses-ms 0,20 --dir D --out FILE.md</pre>
 */
public final class KeyringRotationBench {

    private record Run(int batch, int pauseMs, long dataKeys, double seconds, Latency before, Latency during) {}

    private record Latency(int samples, double p50, double p99, double max) {
        static Latency of(List<Double> ms) {
            List<Double> sorted = new ArrayList<>(ms);
            Collections.sort(sorted);
            if (sorted.isEmpty()) {
                return new Latency(0, 0, 0, 0);
            }
            return new Latency(sorted.size(), at(sorted, 0.50), at(sorted, 0.99), sorted.getLast());
        }

        private static double at(List<Double> sorted, double q) {
            return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int secrets = args.integer("secrets", 5000);
        List<Integer> batches = args.integers("batches", "50,200");
        List<Integer> pauses = args.integers("pauses-ms", "0,20");
        Path dir = args.path("dir");
        Path out = Path.of(args.string("out", "bench/results/keyring-rotation.md"));
        Files.createDirectories(dir);
        LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        String admin = "spiffe://bench.test/client/admin";
        List<Run> runs = new ArrayList<>();
        try (Store store = Stores.open(StoreConfig.sqlite(dir.resolve("tresor.db")))) {
            Tresor tresor = Tresor.open(store, kek, IntegrityMonitor.NONE, Clock.systemUTC());
            tresor.bootstrapAdmin("admin", admin);
            Caller root = tresor.authenticate(admin);
            tresor.createGroup(root, "app", null);
            tresor.addMember(root, "app", "admin", Role.WRITE);
            long loadStart = System.nanoTime();
            for (int i = 0; i < secrets; i++) {
                tresor.secrets().put(root, name(i), new PutSecret(("value-" + i).getBytes(StandardCharsets.UTF_8), null,
                        null, List.of("app"), null, null, null), tresor.groupCheck());
            }
            System.out.printf(Locale.ROOT, "loaded %d secrets in %.1f s%n", secrets, (System.nanoTime() - loadStart) / 1e9);
            for (int batch : batches) {
                for (int pause : pauses) {
                    runs.add(measure(tresor, admin, secrets, batch, pause));
                    System.out.println(line(runs.getLast()));
                }
            }
        }
        String report = report(secrets, runs);
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static Run measure(Tresor tresor, String admin, int secrets, int batch, int pauseMs) throws Exception {
        // Baseline: the writer alone for 3 s.
        List<Double> before = writeFor(tresor, admin, secrets, Duration.ofSeconds(3), null);
        KeyringRotation rotation = tresor.keyringRotation();
        AtomicBoolean rotating = new AtomicBoolean(true);
        List<Double> during = Collections.synchronizedList(new ArrayList<>());
        Thread writer = Thread.ofPlatform().start(() -> during.addAll(writeFor(tresor, admin, secrets, null, rotating)));
        long start = System.nanoTime();
        rotation.begin();
        KeyringRotation.Result result = rotation.finish(batch, (done, unreadable) -> {
            if (pauseMs > 0) {
                Thread.sleep(pauseMs);
            }
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        rotating.set(false);
        writer.join();
        if (result.retired().isEmpty() || result.unreadable() > 0) {
            throw new IllegalStateException("the rotation did not finish: " + result);
        }
        return new Run(batch, pauseMs, result.rewrapped(), seconds, Latency.of(before), Latency.of(during));
    }

    /** Puts new versions of random secrets back to back, for {@code length} or while {@code running}. */
    private static List<Double> writeFor(Tresor tresor, String admin, int secrets, Duration length, AtomicBoolean running) {
        List<Double> ms = new ArrayList<>();
        long end = length == null ? Long.MAX_VALUE : System.nanoTime() + length.toNanos();
        Caller root = tresor.authenticate(admin);
        while (System.nanoTime() < end && (running == null || running.get())) {
            int i = ThreadLocalRandom.current().nextInt(secrets);
            long t0 = System.nanoTime();
            tresor.secrets().put(root, name(i), new PutSecret(("w-" + t0).getBytes(StandardCharsets.UTF_8), null, null,
                    null, null, null, null), tresor.groupCheck());
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        return ms;
    }

    private static String name(int i) {
        return "app/s" + i;
    }

    private static String line(Run r) {
        return String.format(Locale.ROOT, "batch %d, pause %d ms: %d data keys in %.1f s (%.0f/s); writer p99 %.1f -> %.1f ms",
                r.batch(), r.pauseMs(), r.dataKeys(), r.seconds(), r.dataKeys() / r.seconds(), r.before().p99(),
                r.during().p99());
    }

    private static String report(int secrets, List<Run> runs) {
        StringBuilder md = new StringBuilder();
        md.append("# Keyring rotation (`tresor key rotate --keyring`)\n\n");
        md.append(String.format(Locale.ROOT, "%d secrets in one SQLite file (WAL, synchronous=FULL), in-process "
                + "(`bench/keyring-rotation.sh`, `KeyringRotationBench`). Each run: a new primary key, every data key "
                + "re-wrapped in batches (secrets per transaction), the old key retired, while one writer puts new "
                + "versions of random secrets back to back. Writer latency: 3 s alone before, then during the "
                + "rotation. The data-key count grows by the writer's versions from run to run.%n%n", secrets));
        md.append("| batch | pause | data keys | time s | keys/s | writer p50 ms before / during | writer p99 ms before / during | writer max ms during | writes during |\n");
        md.append("|---:|---:|---:|---:|---:|---|---|---:|---:|\n");
        for (Run r : runs) {
            md.append(String.format(Locale.ROOT, "| %d | %d ms | %d | %.1f | %.0f | %.2f / %.2f | %.2f / %.2f | %.1f | %d |%n",
                    r.batch(), r.pauseMs(), r.dataKeys(), r.seconds(), r.dataKeys() / r.seconds(), r.before().p50(),
                    r.during().p50(), r.before().p99(), r.during().p99(), r.during().max(), r.during().samples()));
        }
        md.append("\nThe server's job uses batch 50 and a 20 ms pause (`KeyringRotationJob`).\n");
        return md.toString();
    }
}
