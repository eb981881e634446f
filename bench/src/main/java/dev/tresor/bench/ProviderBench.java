package dev.tresor.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.testkit.SoftHsm;
import dev.tresor.testkit.kms.LocalKms;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Secret reads and start-up time with each key provider against {@code local} (issue 16): one
 * {@code tresor init} SQLite folder per provider with the same 100 secrets of 64 bytes, each
 * moved from its local KEK to its provider through the real {@code POST /v1/keys/migrate} of a
 * running server (the online path an operator uses), then measured as real {@code tresor server}
 * processes: first start-up samples (process start to the first ready {@code /readyz}), then
 * read rounds, both interleaved with the provider order rotating so drift in the shared machine's
 * load hits every provider alike. The KEK is used at start-up only, so reads should not differ:
 * the goal is every provider within 5 % of local. For awskms the bench counts the local KMS's
 * calls over each measured window, which shows directly whether a read reached the provider.
 *
 * <p>SoftHSM2 reads {@code SOFTHSM2_CONF} once per process, so the script sets it for this JVM
 * (which initialises the token and makes the key) and the servers inherit it.
 */
public final class ProviderBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HSM_PIN = "7391-bench-pin";
    /** Long enough for the sealed key file's rule (at least 12 characters); the bench's own, nothing to keep. */
    private static final String PASSPHRASE = "bench passphrase for the sealed key file";

    /** One provider's store, ready to start: its config, the server's environment, the KEK id it must report. */
    record Provider(String name, StoreFolder folder, DataDir.Credentials reader, DataDir.Credentials admin,
                    Map<String, String> environment, String kind, String kekPrefix) {}

    /** One server start: seconds to the first ready /readyz, and the KMS calls it made (-1: not a KMS provider). */
    record Startup(String provider, int sample, double seconds, long kmsCalls) {}

    /** One measured read window, and the KMS calls seen during it (-1: not a KMS provider). */
    record Window(String provider, int round, LoadResult result, long kmsCalls) {}

    private ProviderBench() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Path root = Path.of(a.string("root", ".")).toAbsolutePath().normalize();
        Path work = a.path("work");
        List<String> names = List.of(a.string("providers", "local,local-sealed,pkcs11,awskms").split(","));
        int rounds = a.integer("rounds", 3);
        int startups = a.integer("startups", 5);
        int connections = a.integer("connections", 8);
        Duration window = a.seconds("window", 10);
        Duration warm = a.seconds("jit-warmup", 30);
        Path out = Path.of(a.string("out", "bench/results"));
        a.checkAllUsed();
        Files.createDirectories(out);
        Reports.Machine atStart = Reports.Machine.describe();
        System.out.println("machine: " + atStart.markdown());

        SoftHsm hsm = names.contains("pkcs11") ? SoftHsm.start("tresor-bench", HSM_PIN) : null;
        List<Startup> starts = new ArrayList<>();
        List<Window> windows = new ArrayList<>();
        Path raw = out.resolve("providers.jsonl");
        Files.deleteIfExists(raw);
        try (LocalKms kms = LocalKms.start("eu-west-1")) {
            List<Provider> providers = new ArrayList<>();
            for (String name : names) {
                providers.add(prepare(root, work.resolve(name), name, hsm, kms));
                System.out.println("prepared " + name);
            }
            // Start-up first, on stores whose audit logs are still small and alike: a start
            // verifies the whole audit chain, which the read rounds would grow.
            for (int s = 0; s < startups; s++) {
                for (Provider p : rotated(providers, s)) {
                    long kmsBefore = kms.calls();
                    try (ServerProcess server = start(root, p, "start-" + s)) {
                        long kmsCalls = p.kind().equals("awskms") ? kms.calls() - kmsBefore : -1;
                        checkProvider(p);
                        starts.add(new Startup(p.name(), s, server.startupSeconds(), kmsCalls));
                        System.out.printf(Locale.ROOT, "start-up %s #%d: %.2f s%n", p.name(), s, server.startupSeconds());
                    }
                }
            }
            RequestPlan plan = RequestPlan.gets(readPaths(), "application/octet-stream");
            for (int r = 0; r < rounds; r++) {
                for (Provider p : rotated(providers, r)) {
                    try (ServerProcess server = start(root, p, "round-" + r)) {
                        List<Long> pids = List.of(server.pid());
                        Endpoint ep = p.folder().data().endpoint(p.reader(), p.folder().apiPort());
                        LoadGenerator.run(new LoadGenerator.Spec("warm", ep, plan, connections, Duration.ZERO, warm,
                                100_000_000, pids, LoadGenerator.Spec.success()));
                        long kmsBefore = kms.calls();
                        LoadResult res = LoadGenerator.run(new LoadGenerator.Spec(p.name() + " round " + r, ep, plan,
                                connections, Duration.ofSeconds(2), window, 100_000_000, pids, LoadGenerator.Spec.success(),
                                new JitQuiet(server.pid()).settleCheck()));
                        long kmsCalls = p.kind().equals("awskms") ? kms.calls() - kmsBefore : -1;
                        System.out.println(res.summary() + (kmsCalls >= 0 ? "  KMS calls in window: " + kmsCalls : ""));
                        windows.add(new Window(p.name(), r, res, kmsCalls));
                        Files.writeString(raw, Reports.json(res) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                                StandardOpenOption.APPEND);
                    }
                }
            }
        }
        Reports.Machine atEnd = Reports.Machine.describe();
        String md = markdown(names, starts, windows, atStart, atEnd, rounds, startups, connections, window, warm);
        Files.writeString(out.resolve("providers.md"), md, StandardCharsets.UTF_8);
        System.out.println(md);
    }

    /** Round r starts with provider number r: each provider leads once per len(providers) rounds. */
    private static List<Provider> rotated(List<Provider> providers, int r) {
        List<Provider> out = new ArrayList<>();
        for (int i = 0; i < providers.size(); i++) {
            out.add(providers.get((i + r) % providers.size()));
        }
        return out;
    }

    static List<String> readPaths() {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            paths.add("/v1/secrets/" + BulkLoad.name(i));
        }
        return paths;
    }

    private static ServerProcess start(Path root, Provider p, String tag) throws IOException, InterruptedException {
        Path dir = p.folder().folder().dir();
        return ServerProcess.start(root, p.folder().folder().config(), p.folder().managementPort(),
                dir.resolve("server-" + tag + ".log"), List.of(), p.environment());
    }

    /**
     * A {@code tresor init} folder with the bench's 100 secrets (loaded in-process under its local
     * KEK, as every bench loads), then, for the other providers, moved to that provider by a
     * running server's {@code POST /v1/keys/migrate}.
     */
    private static Provider prepare(Path root, Path dir, String name, SoftHsm hsm, LocalKms kms) throws Exception {
        StoreFolder sf = StoreFolder.create(dir, "sqlite");
        DataFolder folder = sf.folder();
        DataDir data = sf.data();
        StoreFolder.BenchClients clients = sf.issueBenchClients();
        DataDir.Credentials reader = clients.reader();
        DataDir.Credentials lister = clients.lister();
        DataDir.Credentials admin = clients.admin();
        try (BulkLoad load = new BulkLoad(folder.config(), sf.admin().identity())) {
            load.setUp(reader.identity(), lister.identity());
            load.put(0, 100, 2, i -> { });
        }
        Map<String, String> env = new LinkedHashMap<>();
        String spec;
        String kind;
        String prefix;
        switch (name) {
            case "local" -> {
                return new Provider(name, sf, reader, admin, Map.of(), "local", "local:");
            }
            case "local-sealed" -> {
                ownerOnly(Files.writeString(folder.dir().resolve("kek.pass"), PASSPHRASE + "\n"));
                spec = "keyProvider:\n  kind: local\n  path: kek-sealed.json\n  passphraseFile: kek.pass\n";
                kind = "local";
                prefix = "local:";
            }
            case "pkcs11" -> {
                if (hsm == null) {
                    throw new IllegalStateException("no SoftHSM token");
                }
                Path pin = ownerOnly(Files.writeString(folder.dir().resolve("hsm.pin"), HSM_PIN + "\n"));
                String label = "bench-kek-" + Long.toHexString(System.nanoTime());
                Pkcs11KeyProvider.generateKey(new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null, label),
                        Pkcs11KeyProvider.Pin.fromFile(pin), Map.of());
                spec = "keyProvider:\n  kind: pkcs11\n  library: " + hsm.library() + "\n  slot: " + hsm.slot()
                        + "\n  keyLabel: " + label + "\n  pinFile: hsm.pin\n";
                env.put("SOFTHSM2_CONF", System.getenv("SOFTHSM2_CONF"));
                kind = "pkcs11";
                prefix = "pkcs11:";
            }
            case "awskms" -> {
                String arn = kms.createKey();
                spec = "keyProvider:\n  kind: awskms\n  keyId: \"" + arn + "\"\n  region: " + kms.region()
                        + "\n  endpoint: \"" + kms.endpoint() + "\"\n";
                env.putAll(kms.environment());
                kind = "awskms";
                prefix = "awskms:";
            }
            default -> throw new IllegalArgumentException("unknown provider " + name
                    + " (local, local-sealed, pkcs11, awskms)");
        }
        // The running server (still on kek.json) needs the target provider's environment for the migration.
        try (ServerProcess server = ServerProcess.start(root, folder.config(), sf.managementPort(),
                folder.dir().resolve("server-migrate.log"), List.of(), env);
             ApiClient api = new ApiClient(data.endpoint(admin, sf.apiPort()))) {
            ApiClient.Reply done = api.ok("POST", "/v1/keys/migrate", Reports.json(Map.of("to", spec)));
            System.out.println(name + ": migrated " + done.body());
        }
        Provider p = new Provider(name, sf, reader, admin, Map.copyOf(env), kind, prefix);
        return p;
    }

    /** The running server reports the provider and KEK the bench means to measure. */
    private static void checkProvider(Provider p) throws IOException {
        try (ApiClient api = new ApiClient(p.folder().data().endpoint(p.admin(), p.folder().apiPort()))) {
            JsonNode status = JSON.readTree(api.ok("GET", "/v1/keys/status", null).body());
            String kind = status.path("provider").asText();
            String inUse = status.path("kekInUse").asText();
            boolean sealed = p.name().equals("local-sealed");
            if (!kind.equals(p.kind()) || !inUse.startsWith(p.kekPrefix())
                    || sealed != Files.readString(p.folder().folder().config()).contains("passphraseFile")) {
                throw new IllegalStateException(p.name() + ": the server runs provider " + kind + " with KEK " + inUse);
            }
        }
    }

    private static Path ownerOnly(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static String markdown(List<String> names, List<Startup> starts, List<Window> windows,
                                   Reports.Machine atStart, Reports.Machine atEnd, int rounds, int startups,
                                   int connections, Duration window, Duration warm) {
        StringBuilder md = new StringBuilder("# Reads and start-up with each key provider\n\n");
        md.append("Made by `bench/providers.sh` (`ProviderBench`). Machine at start: ").append(atStart.markdown())
                .append(".\nAt the end: load average ").append(String.format(Locale.ROOT, "%.2f / %.2f / %.2f at %s",
                        atEnd.load1(), atEnd.load5(), atEnd.load15(), atEnd.at())).append(".\n\n");
        md.append("One `tresor init` SQLite folder per provider, each with the same 100 secrets of 64 bytes loaded under"
                + " its local KEK; local-sealed (a new key file sealed by a passphrase, Argon2id), pkcs11 (a non-extractable"
                + " AES-256 key on a Debian SoftHSM2 token) and awskms (a key of the testkit's local KMS-compatible server,"
                + " plain HTTP on 127.0.0.1 in the bench's JVM, SigV4-checked) were then moved there by a running server's"
                + " `POST /v1/keys/migrate`, and every start below checks `GET /v1/keys/status` names that provider."
                + " Real `tresor server` processes (`bin/tresor`, production flags, the server's AOT cache).\n\n");
        md.append("## Start-up\n\n").append(startups).append(" samples per provider, interleaved (order rotating),"
                + " before any read round (each start verifies the audit chain, which reads grow): process start to the"
                + " first ready `/readyz`, seconds, median (min–max).\n\n");
        md.append("| provider | start-up s | vs local | KMS calls per start |\n|---|---|---:|---|\n");
        double localStart = Reports.Spread.of(starts.stream().filter(s -> s.provider().equals("local")).toList(),
                Startup::seconds).median();
        for (String n : names) {
            Reports.Spread sp = Reports.Spread.of(starts.stream().filter(s -> s.provider().equals(n)).toList(), Startup::seconds);
            List<Startup> mine = starts.stream().filter(s -> s.provider().equals(n) && s.kmsCalls() >= 0).toList();
            md.append("| ").append(n).append(" | ").append(sp.format("%.2f")).append(" | ")
                    .append(Reports.fmt("%+.2f s", sp.median() - localStart)).append(" | ")
                    .append(mine.isEmpty() ? "-" : Reports.Spread.of(mine, Startup::kmsCalls).format("%.0f")).append(" |\n");
        }
        md.append("\n## Reads\n\n").append(rounds).append(" interleaved rounds (order rotating), each a fresh server: ")
                .append(warm.toSeconds()).append(" s of unmeasured JIT warm-up, then fresh connections, 2 s, until the"
                        + " JIT compiled nothing for a second (at most " + LoadGenerator.MAX_SETTLE.toSeconds()
                        + " s), then a ").append(window.toSeconds()).append(" s window of `GET /v1/secrets/NAME`"
                        + " (`Accept: application/octet-stream`, round-robin over the 100 secrets) over ")
                .append(connections).append(" mTLS keep-alive connections (TLSv1.3, TLS_AES_128_GCM_SHA256) by one"
                        + " reader. Median (min–max) over rounds; latency µs; CPU = the server process's user+system"
                        + " (`/proc/PID/stat`) per read. Goal: every provider within 5 % of local in reads/s.\n\n");
        md.append("| provider | reads/s | vs local | p50 µs | p99 µs | server CPU µs/read | errors | KMS calls in windows | load avg at windows |\n");
        md.append("|---|---|---:|---|---|---|---:|---:|---|\n");
        double localRate = Reports.Spread.of(byProvider(windows, "local"), LoadResult::requestsPerSecond).median();
        List<String> verdicts = new ArrayList<>();
        for (String n : names) {
            List<Window> ws = windows.stream().filter(w -> w.provider().equals(n)).toList();
            List<LoadResult> rs = byProvider(windows, n);
            Reports.Spread rate = Reports.Spread.of(rs, LoadResult::requestsPerSecond);
            double ratio = rate.median() / localRate;
            long kmsCalls = ws.stream().mapToLong(Window::kmsCalls).filter(c -> c >= 0).sum();
            boolean kms = ws.stream().anyMatch(w -> w.kmsCalls() >= 0);
            md.append("| ").append(n).append(" | ").append(rate.format("%.0f")).append(" | ")
                    .append(Reports.fmt("%.3f", ratio)).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::p50).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::p99).format("%.0f")).append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).format("%.1f")).append(" | ")
                    .append(rs.stream().mapToLong(LoadResult::errors).sum()).append(" | ")
                    .append(kms ? Long.toString(kmsCalls) : "-").append(" | ")
                    .append(Reports.Spread.of(rs, LoadResult::loadAverage).format("%.2f")).append(" |\n");
            if (!n.equals("local")) {
                double cpu = Reports.Spread.of(rs, LoadResult::serverCpuMicrosPerRequest).median()
                        / Reports.Spread.of(byProvider(windows, "local"), LoadResult::serverCpuMicrosPerRequest).median();
                // Two-sided on purpose: a provider "faster" than local by more than 5 % says the
                // noise is larger than the goal, not that the provider helps.
                verdicts.add(String.format(Locale.ROOT, "%s %.1f %% of local's reads/s (%s), %.1f %% of its CPU per read",
                        n, 100 * ratio, Math.abs(ratio - 1) <= 0.05 ? "within ±5 % ✓"
                                : ratio < 1 ? "slower by more than 5 % ✗" : "faster by more than 5 %: outside ±5 %, noise",
                        100 * cpu));
            }
        }
        md.append("\nGoal (within 5 % of local, medians): ").append(String.join("; ", verdicts)).append(".\n\n");
        md.append("Per round, each provider's reads/s over local's in the same round (the pairs share the machine's"
                + " state most closely):\n\n| round |");
        for (String n : names) {
            md.append(' ').append(n).append(" |");
        }
        md.append("\n|---:|").append("---:|".repeat(names.size())).append('\n');
        for (int r = 0; r < rounds; r++) {
            int round = r;
            double local = windows.stream().filter(w -> w.round() == round && w.provider().equals("local"))
                    .mapToDouble(w -> w.result().requestsPerSecond()).findFirst().orElse(Double.NaN);
            md.append("| ").append(r).append(" |");
            for (String n : names) {
                double v = windows.stream().filter(w -> w.round() == round && w.provider().equals(n))
                        .mapToDouble(w -> w.result().requestsPerSecond()).findFirst().orElse(Double.NaN);
                md.append(String.format(Locale.ROOT, " %.0f (%.3f) |", v, v / local));
            }
            md.append('\n');
        }
        md.append("\nJIT settle per window (s): ");
        List<String> settles = new ArrayList<>();
        for (Window w : windows) {
            settles.add(String.format(Locale.ROOT, "%s r%d %.0f%s", w.provider(), w.round(), w.result().settleSeconds(),
                    w.result().settled() ? "" : " (limit)"));
        }
        md.append(String.join(", ", settles)).append(".\n");
        return md.toString();
    }

    private static List<LoadResult> byProvider(List<Window> windows, String provider) {
        return windows.stream().filter(w -> w.provider().equals(provider)).map(Window::result).toList();
    }
}
