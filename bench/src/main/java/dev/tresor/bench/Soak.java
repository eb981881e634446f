package dev.tresor.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A soak of a running server: mixed reads, writes, grants and revokes, listings and refused reads
 * across many client identities, for a bounded time, with every answer checked against what it
 * must be. Every interval it forces a full GC in the server and records the heap after it, the
 * open file descriptors and the RSS, so a leak shows as a rising line. Started by bench/soak.sh,
 * which then stops the server and verifies the audit chain.
 */
public final class Soak {

    private static final int GROUPS = 10;

    /** One sample of the server's health. */
    record Sample(double minute, long operations, long errors, double heapAfterGcMiB, int openFds, double rssMiB) {}

    private Soak() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        DataDir data = new DataDir(a.path("dir"));
        int port = a.integer("port", 8443);
        long pid = a.longValue("pid", 0);
        Duration length = a.seconds("minutes", 3).multipliedBy(60);
        int identities = a.integer("identities", 50);
        int secrets = a.integer("secrets", 200);
        int workers = a.integer("workers", 12);
        Duration every = a.seconds("sample-every", 30);
        Path out = Path.of(a.string("out", "bench/results/soak.md"));
        a.checkAllUsed();
        if (length.compareTo(Duration.ofHours(12)) > 0) {
            throw new IllegalArgumentException("a soak is bounded to 12 h");
        }
        Reports.Machine machine = Reports.Machine.describe();
        Path certs = Files.createTempDirectory("tresor-soak-clients");
        Endpoint adminEp = data.endpoint(data.admin(), port);
        List<Endpoint> clients = new ArrayList<>();
        List<Boolean> writers = new ArrayList<>();
        System.out.println("setting up " + identities + " identities, " + GROUPS + " groups, " + secrets + " secrets…");
        try (ApiClient admin = new ApiClient(adminEp)) {
            for (int g = 0; g < GROUPS; g++) {
                admin.ok("POST", "/v1/groups", "{\"name\":\"g" + g + "\"}");
            }
            admin.ok("POST", "/v1/groups", "{\"name\":\"churn\"}");
            for (int i = 0; i < identities; i++) {
                String name = "c" + i;
                DataDir.Credentials c = data.issueClient(name, data.identityOf(name), certs);
                admin.ok("POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":" + ApiClient.quote(c.identity()) + "}");
                boolean writer = i % 5 == 0;
                admin.ok("PUT", "/v1/groups/g" + (i % GROUPS) + "/clients/" + name, "{\"role\":\"" + (writer ? "write" : "read") + "\"}");
                clients.add(data.endpoint(c, port));
                writers.add(writer);
            }
            for (int s = 0; s < secrets; s++) {
                admin.ok("PUT", "/v1/secrets/soak/s-" + s, "{\"value\":\"v0\",\"groups\":[\"g" + (s % GROUPS) + "\"]}");
            }
            for (int s = 0; s < 20; s++) {
                admin.ok("PUT", "/v1/secrets/soak/churn-" + s, "{\"value\":\"c0\",\"groups\":[\"churn\"]}");
            }
        }
        Run run = new Run(adminEp, clients, writers, secrets);
        long end = System.nanoTime() + length.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            int id = w;
            threads.add(Thread.ofPlatform().name("soak-" + w).start(() -> run.work(id, workers, end)));
        }
        List<Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        samples.add(sample(pid, start, run));
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(every.toMillis(), Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            samples.add(sample(pid, start, run));
            Sample s = samples.getLast();
            System.out.printf(Locale.ROOT, "%5.1f min: %d ops, %d errors, heap after GC %.1f MiB, %d fds, RSS %.0f MiB%n",
                    s.minute(), s.operations(), s.errors(), s.heapAfterGcMiB(), s.openFds(), s.rssMiB());
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        samples.add(sample(pid, start, run));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, markdown(machine, length, identities, secrets, workers, run, samples), StandardCharsets.UTF_8);
        System.out.println(Files.readString(out));
        System.exit(run.errors.sum() == 0 ? 0 : 1);
    }

    private static Sample sample(long pid, long start, Run run) {
        double heap = -1;
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
            String info = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
            heap = m.find() ? Long.parseLong(m.group(1)) / 1024.0 : -1;
        } catch (java.io.IOException e) {
            heap = -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new Sample((System.nanoTime() - start) / 6e10, run.operations.sum(), run.errors.sum(), heap,
                ProcStat.openFds(pid), ProcStat.rssMiB(pid));
    }

    /** Shared counters of one soak; each worker owns its connections. */
    private static final class Run {
        final Endpoint admin;
        final List<Endpoint> clients;
        final List<Boolean> writers;
        final int secrets;
        final LongAdder operations = new LongAdder();
        final LongAdder errors = new LongAdder();
        final Map<String, LongAdder> byOperation = new ConcurrentHashMap<>();
        final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();

        Run(Endpoint admin, List<Endpoint> clients, List<Boolean> writers, int secrets) {
            this.admin = admin;
            this.clients = clients;
            this.writers = writers;
            this.secrets = secrets;
        }

        void work(int worker, int workers, long end) {
            Random random = new Random(worker * 7919L);
            Map<Integer, ApiClient> mine = new TreeMap<>();
            try (ApiClient admin = new ApiClient(this.admin)) {
                while (System.nanoTime() < end) {
                    // Each worker speaks for the identities i with i % workers == worker, so connections stay few.
                    int owned = Math.max(1, (clients.size() - worker + workers - 1) / workers);
                    int client = Math.min(clients.size() - 1, worker + workers * random.nextInt(owned)) % clients.size();
                    ApiClient as = mine.computeIfAbsent(client, k -> new ApiClient(clients.get(k)));
                    int group = client % GROUPS;
                    int op = random.nextInt(100);
                    try {
                        if (op < 60) {
                            int s = group + GROUPS * random.nextInt(secrets / GROUPS);
                            expect("read own", as.call("GET", "/v1/secrets/soak/s-" + s, null), 200);
                        } else if (op < 68) {
                            int s = (group + 1 + random.nextInt(GROUPS - 1)) % GROUPS + GROUPS * random.nextInt(secrets / GROUPS);
                            expect("read foreign (refused)", as.call("GET", "/v1/secrets/soak/s-" + s, null), 403);
                        } else if (op < 76) {
                            int s = group + GROUPS * random.nextInt(secrets / GROUPS);
                            ApiClient.Reply r = as.call("PUT", "/v1/secrets/soak/s-" + s, "{\"value\":\"v" + random.nextInt() + "\"}");
                            expect(writers.get(client) ? "write (writer)" : "write (reader, refused)", r, writers.get(client) ? 200 : 403);
                        } else if (op < 81) {
                            int s = random.nextInt(secrets);
                            expect("admin new version", admin.call("PUT", "/v1/secrets/soak/s-" + s, "{\"value\":\"a" + random.nextInt() + "\"}"), 200);
                        } else if (op < 87) {
                            int s = random.nextInt(20);
                            int g = random.nextInt(GROUPS);
                            if (random.nextBoolean()) {
                                expect("grant", admin.call("PUT", "/v1/groups/g" + g + "/secrets/soak/churn-" + s, null), 200);
                            } else {
                                // 404 when the group holds no grant on it (the API's documented answer), else 200.
                                ApiClient.Reply r = admin.call("DELETE", "/v1/groups/g" + g + "/secrets/soak/churn-" + s, null);
                                expect(r.status() == 404 ? "revoke (had no grant)" : "revoke", r, r.status() == 404 ? 404 : 200);
                            }
                        } else if (op < 93) {
                            ApiClient.Reply r = as.call("GET", "/v1/secrets/soak/churn-" + random.nextInt(20), null);
                            expect("read churned", r, r.status() == 403 ? 403 : 200);
                        } else if (op < 98) {
                            expect("list", as.call("GET", "/v1/secrets?limit=100", null), 200);
                        } else {
                            expect("whoami", as.call("GET", "/v1/whoami", null), 200);
                        }
                    } catch (RuntimeException e) {
                        errors.increment();
                        String message = String.valueOf(e.getMessage());
                        errorKinds.computeIfAbsent(e.getClass().getSimpleName() + ": "
                                + (message.length() > 120 ? message.substring(0, 120) : message), k -> new LongAdder()).increment();
                    }
                }
            } finally {
                mine.values().forEach(ApiClient::close);
            }
        }

        private void expect(String what, ApiClient.Reply r, int status) {
            operations.increment();
            byOperation.computeIfAbsent(what, k -> new LongAdder()).increment();
            if (r.status() != status) {
                errors.increment();
                String body = r.body().replaceAll("\"requestId\":\"[0-9a-f]*\"", "").replaceAll("'[^']*'", "'…'");
                body = body.length() > 120 ? body.substring(0, 120) : body;
                errorKinds.computeIfAbsent(what + ": " + r.status() + " " + body, k -> new LongAdder()).increment();
            }
        }
    }

    private static String markdown(Reports.Machine machine, Duration length, int identities, int secrets, int workers, Run run,
                                   List<Sample> samples) {
        StringBuilder md = new StringBuilder("# Soak: mixed reads, writes, grants across many identities\n\n");
        md.append("Made by `bench/soak.sh ").append(length.toMinutes()).append("`. Machine at start: ").append(machine.markdown())
                .append(".\n\n");
        md.append(String.format(Locale.ROOT, "%d identities in %d groups (every 5th a writer), %d secrets plus 20 whose grants churn; "
                + "%d closed-loop workers; every answer checked against the status it must have (200, or 403 for refused reads and "
                + "writes). Server: `tresor server` on SQLite from a `tresor init` folder. Each sample forces a full GC "
                + "(`jcmd GC.run`) and records the heap used after it.%n%n", identities, GROUPS, secrets, workers));
        md.append("| minute | operations | errors | heap after GC MiB | open fds | RSS MiB |\n|---:|---:|---:|---:|---:|---:|\n");
        for (Sample s : samples) {
            md.append(String.format(Locale.ROOT, "| %.1f | %d | %d | %.1f | %d | %.0f |%n", s.minute(), s.operations(), s.errors(),
                    s.heapAfterGcMiB(), s.openFds(), s.rssMiB()));
        }
        md.append("\nOperations by kind: ");
        new TreeMap<>(run.byOperation).forEach((k, v) -> md.append(k).append(" ").append(v.sum()).append("; "));
        md.append("\n\nErrors: ").append(run.errors.sum());
        if (!run.errorKinds.isEmpty()) {
            md.append(" —");
            new TreeMap<>(run.errorKinds).forEach((k, v) -> md.append(" `").append(k.replace('`', '\'')).append("` ×").append(v.sum()).append(";"));
        }
        md.append("\n");
        return md.toString();
    }
}
