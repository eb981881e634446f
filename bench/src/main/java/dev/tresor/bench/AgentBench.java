package dev.tresor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * tresor agent: propagation latency (PUT of a new version → the agent's file holds it, measured
 * by the writer polling the file) with one real agent process following the change feed, and
 * the RSS of an idle agent rendering {@code --secrets} files. The agent runs from the shaded
 * tresor.jar with exactly the JVM flags printed in the report.
 */
public final class AgentBench {

    private AgentBench() {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        Path root = Path.of(args.required("root")).toAbsolutePath();
        Path work = Path.of(args.required("work"));
        int secrets = args.integer("secrets", 20);
        int samples = args.integer("samples", 200);
        String debounce = args.string("debounce", "0ms");
        List<String> flags = List.of(args.string("flags",
                "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx24m -XX:MaxMetaspaceSize=48m "
                        + "-XX:ReservedCodeCacheSize=16m -XX:CICompilerCount=1 -XX:-UsePerfData").split(" "));
        Path out = Path.of(args.string("out", root.resolve("bench/results").toString()));
        String reportName = args.string("report", "agent.md");

        StoreFolder sf = StoreFolder.create(work.resolve("server"), "sqlite");
        Path shm = Files.createDirectories(Path.of("/dev/shm", "tresor-agent-bench-" + ProcessHandle.current().pid()));
        try (ServerProcess server = ServerProcess.start(root, sf.folder().config(), sf.managementPort(),
                work.resolve("server.log"), List.of())) {
            Endpoint admin = sf.data().endpoint(new DataDir.Credentials(sf.admin().cert(), sf.admin().key(), sf.admin().ca(),
                    sf.admin().identity()), sf.apiPort());
            String identity = "spiffe://tresor.local/ns/bench/sa/agent";
            DataDir.Credentials agentCreds = sf.data().issueClient("agent", identity, Files.createDirectories(work.resolve("agent")));
            StringBuilder config = new StringBuilder("""
                    server: https://localhost:%d
                    credentials:
                      cert: %s
                      key: %s
                      ca: %s
                    destination: %s
                    debounce: %s
                    status:
                      file: %s
                    secrets:
                    """.formatted(sf.apiPort(), agentCreds.cert(), agentCreds.key(), sf.admin().ca(), shm, debounce,
                    work.resolve("agent-status.json")));
            try (ApiClient c = new ApiClient(admin)) {
                c.ok("POST", "/v1/groups", "{\"name\":\"bench\"}");
                c.ok("POST", "/v1/clients", "{\"name\":\"agent\",\"identity\":\"" + identity + "\"}");
                c.ok("PUT", "/v1/groups/bench/clients/agent", "{\"role\":\"read\"}");
                for (int i = 0; i < secrets; i++) {
                    c.ok("PUT", "/v1/secrets/bench/s-" + i, "{\"value\":\"initial-" + i + "\",\"groups\":[\"bench\"]}");
                    config.append("  - {secret: bench/s-").append(i).append(", file: s-").append(i).append("}\n");
                }
                Path yaml = work.resolve("agent.yaml");
                Files.writeString(yaml, config.toString());

                List<String> cmd = new ArrayList<>();
                cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                cmd.addAll(flags);
                cmd.addAll(List.of("-cp", root.resolve("tresor-cli/target/tresor.jar").toString(), "dev.tresor.cli.Main",
                        "agent", "--config", yaml.toString()));
                Process agent = new ProcessBuilder(cmd).redirectErrorStream(true)
                        .redirectOutput(work.resolve("agent.log").toFile()).start();
                try {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (countFiles(shm) < secrets || !String.valueOf(readQuietly(work.resolve("agent-status.json"))).contains("\"ok\"")) {
                        if (!agent.isAlive() || System.nanoTime() > deadline) {
                            throw new IllegalStateException("the agent did not render " + secrets + " files; see " + work.resolve("agent.log"));
                        }
                        Thread.sleep(20);
                    }
                    // Idle: let start-up garbage be collected and the JIT settle, then sample RSS.
                    Thread.sleep(10_000);
                    long idleRss = maxRss(agent.pid(), 5);

                    Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(30), 3);
                    Path file = shm.resolve("s-0");
                    for (int i = 1; i <= samples; i++) {
                        String value = "v" + i + "-" + System.nanoTime();
                        long t0 = System.nanoTime();
                        c.ok("PUT", "/v1/secrets/bench/s-0", "{\"value\":\"" + value + "\"}");
                        while (!value.equals(readQuietly(file))) {
                            if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(30)) {
                                throw new IllegalStateException("sample " + i + ": the file did not change within 30 s");
                            }
                            Thread.onSpinWait();
                        }
                        latency.recordValue((System.nanoTime() - t0) / 1000);
                        Thread.sleep(20); // spaces the samples: each is one change, not a burst
                    }
                    long busyRss = maxRss(agent.pid(), 1);
                    String report = """
                            # tresor agent: propagation and footprint

                            One agent process (tresor.jar, `%s`) following `GET /v1/watch` of one
                            server (SQLite, loopback); debounce %s. Latency: PUT sent → the file in
                            /dev/shm holds the new value (read by the writer), %d samples.

                            | figure | value |
                            |---|---|
                            | propagation p50 | %.1f ms |
                            | propagation p99 | %.1f ms |
                            | propagation max | %.1f ms |
                            | idle RSS, %d secrets | %.1f MiB |
                            | RSS after the latency run | %.1f MiB |

                            %s
                            """.formatted(String.join(" ", flags), debounce, samples,
                            latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0,
                            latency.getMaxValue() / 1000.0, secrets, idleRss / 1024.0, busyRss / 1024.0,
                            Reports.Machine.describe());
                    System.out.println(report);
                    Files.createDirectories(out);
                    Files.writeString(out.resolve(reportName), report);
                } finally {
                    agent.destroy();
                    agent.waitFor(20, TimeUnit.SECONDS);
                    agent.destroyForcibly();
                }
            }
        } finally {
            try (var files = Files.list(shm)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(shm);
        }
    }

    private static int countFiles(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return (int) files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return null;
        }
    }

    /** Highest VmRSS (KiB) over {@code n} samples one second apart. */
    private static long maxRss(long pid, int n) throws IOException, InterruptedException {
        long max = 0;
        for (int i = 0; i < n; i++) {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    max = Math.max(max, Long.parseLong(Arrays.stream(line.split("\\s+")).skip(1).findFirst().orElse("0")));
                }
            }
            if (i + 1 < n) {
                Thread.sleep(1000);
            }
        }
        return max;
    }
}
