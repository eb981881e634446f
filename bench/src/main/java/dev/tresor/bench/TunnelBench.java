package dev.tresor.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Plain TCP vs an stunnel4 pair vs a Tresor tunnel pair on loopback, in interleaved rounds:
 * bulk transfer (MB/s) and redis-benchmark (PING, SET, GET at 1 and 50 clients: p50/p99), with
 * the CPU the two proxy processes spent per request. Started by bench/tunnel.sh, which makes the
 * certificates (openssl) and passes the class path of tresor-tunnel.
 *
 * <pre>TunnelBench --dir DIR --out FILE [--rounds 3] [--bulk-mb 256] [--requests 20000]</pre>
 */
public final class TunnelBench {

    private record Path3(String name, int redisPort, int bulkPort, List<Long> pids) {
    }

    private record Redis(String test, double rps, double p50, double p99, double cpuMicrosPerRequest) {
    }

    private final Path dir;
    private final int rounds;
    private final int bulkMb;
    private final int requests;
    private final List<Process> started = new ArrayList<>();
    private final Map<String, List<Double>> bulk = new LinkedHashMap<>();
    private final Map<String, List<Double>> bulkCpu = new LinkedHashMap<>();
    private final Map<String, List<Redis>> redis = new LinkedHashMap<>();

    private TunnelBench(Path dir, int rounds, int bulkMb, int requests) {
        this.dir = dir;
        this.rounds = rounds;
        this.bulkMb = bulkMb;
        this.requests = requests;
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        TunnelBench bench = new TunnelBench(Path.of(args.required("dir")), args.integer("rounds", 3),
                args.integer("bulk-mb", 256), args.integer("requests", 20000));
        try {
            String report = bench.run(args.string("tunnel-cp", System.getProperty("java.class.path")));
            Path out = Path.of(args.string("out", "bench/results/tunnel.md"));
            Files.writeString(out, report);
            System.out.println(report);
            System.out.println("wrote " + out);
        } finally {
            bench.stopAll();
        }
    }

    private String run(String tunnelClassPath) throws Exception {
        int[] p = freePorts(15);
        int redisPort = p[0];
        int sinkPort = p[1];
        Process redisServer = start("redis", List.of("/usr/bin/redis-server", "--port", String.valueOf(redisPort),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString()));
        startSink(sinkPort);
        awaitPort(redisPort);

        // stunnel pair: server p2 (redis) p3 (bulk), client p4 (redis) p5 (bulk)
        String common = "cert = %1$s/%2$s.crt\nkey = %1$s/%2$s.key\nCAfile = %1$s/ca.pem\nverifyChain = yes\n"
                + "sslVersionMin = TLSv1.3\nciphersuites = TLS_AES_256_GCM_SHA384\n";
        Files.writeString(dir.resolve("stunnel-server.conf"), "foreground = yes\npid =\ndebug = 4\n"
                + "[redis]\naccept = 127.0.0.1:" + p[2] + "\nconnect = 127.0.0.1:" + redisPort + "\nrequireCert = yes\n"
                + common.formatted(dir, "server")
                + "[bulk]\naccept = 127.0.0.1:" + p[3] + "\nconnect = 127.0.0.1:" + sinkPort + "\nrequireCert = yes\n"
                + common.formatted(dir, "server"));
        Files.writeString(dir.resolve("stunnel-client.conf"), "foreground = yes\npid =\ndebug = 4\nclient = yes\n"
                + "[redis]\naccept = 127.0.0.1:" + p[4] + "\nconnect = 127.0.0.1:" + p[2] + "\n" + common.formatted(dir, "client")
                + "[bulk]\naccept = 127.0.0.1:" + p[5] + "\nconnect = 127.0.0.1:" + p[3] + "\n" + common.formatted(dir, "client"));
        Process stunnelServer = start("stunnel-server", List.of("/usr/bin/stunnel4", dir.resolve("stunnel-server.conf").toString()));
        Process stunnelClient = start("stunnel-client", List.of("/usr/bin/stunnel4", dir.resolve("stunnel-client.conf").toString()));

        // Tresor pair: server p6 (redis) p7 (bulk), client p8 (redis) p9 (bulk)
        String server = "threads: virtual\ndrainTimeout: 1s\ntunnels:\n" + tresor("redis", "server", p[6], redisPort, "allow", "server")
                + tresor("bulk", "server", p[7], sinkPort, "allow", "server");
        String client = "threads: virtual\ndrainTimeout: 1s\ntunnels:\n" + tresor("redis", "client", p[8], p[6], "expect", "client")
                + tresor("bulk", "client", p[9], p[7], "expect", "client");
        Files.writeString(dir.resolve("tresor-server.yaml"), server);
        Files.writeString(dir.resolve("tresor-client.yaml"), client);
        // The same pair with platform threads instead of virtual ones (the I/O model question).
        Files.writeString(dir.resolve("tresor-server-platform.yaml"), "threads: platform\n" + "drainTimeout: 1s\ntunnels:\n"
                + tresor("redis", "server", p[10], redisPort, "allow", "server")
                + tresor("bulk", "server", p[11], sinkPort, "allow", "server"));
        Files.writeString(dir.resolve("tresor-client-platform.yaml"), "threads: platform\n" + "drainTimeout: 1s\ntunnels:\n"
                + tresor("redis", "client", p[12], p[10], "expect", "client")
                + tresor("bulk", "client", p[13], p[11], "expect", "client"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process tresorServer = start("tresor-server", jvm(java, tunnelClassPath,
                "dev.tresor.tunnel.cli.TunnelMain", "--config", dir.resolve("tresor-server.yaml").toString()));
        Process tresorClient = start("tresor-client", jvm(java, tunnelClassPath,
                "dev.tresor.tunnel.cli.TunnelMain", "--config", dir.resolve("tresor-client.yaml").toString()));
        Process platformServer = start("tresor-server-platform", jvm(java, tunnelClassPath,
                "dev.tresor.tunnel.cli.TunnelMain", "--config", dir.resolve("tresor-server-platform.yaml").toString()));
        Process platformClient = start("tresor-client-platform", jvm(java, tunnelClassPath,
                "dev.tresor.tunnel.cli.TunnelMain", "--config", dir.resolve("tresor-client-platform.yaml").toString()));
        for (int port : new int[] {p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13]}) {
            awaitPort(port);
        }

        List<Path3> paths = List.of(
                new Path3("plain TCP", redisPort, sinkPort, List.of()),
                new Path3("stunnel4 pair", p[4], p[5], List.of(stunnelServer.pid(), stunnelClient.pid())),
                new Path3("Tresor pair, virtual threads", p[8], p[9], List.of(tresorServer.pid(), tresorClient.pid())),
                new Path3("Tresor pair, platform threads (default)", p[12], p[13], List.of(platformServer.pid(), platformClient.pid())));

        System.out.println("warm-up (JIT of the Tresor tunnels; stunnel gets the same)");
        // The JIT of the tunnel JVMs keeps compiling for a while (FACTS.md): warm up until their CPU per
        // request stops falling, at most 6 rounds, so the measured rounds see compiled code.
        double previous = Double.MAX_VALUE;
        for (int i = 0; i < 6; i++) {
            for (Path3 path : paths) {
                bulkTransfer(path, 64);
                double cpu0 = ProcStat.cpuSeconds(paths.get(2).pids());
                redisBenchmark(path, 50, requests);
                if (path == paths.get(2)) { // the default (virtual threads) pair
                    double perRequest = (ProcStat.cpuSeconds(path.pids()) - cpu0) * 1e6 / (3.0 * requests);
                    System.out.printf(Locale.ROOT, "warm-up %d: Tresor pair %.1f us CPU per request%n", i + 1, perRequest);
                    if (i >= 1 && perRequest > previous * 0.9) {
                        i = 6;
                    }
                    previous = Math.min(previous, perRequest);
                }
            }
        }
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < paths.size(); k++) {
                Path3 path = paths.get((k + round) % paths.size());
                double cpu0 = ProcStat.cpuSeconds(path.pids());
                double mbps = bulkTransfer(path, bulkMb);
                double cpu = ProcStat.cpuSeconds(path.pids()) - cpu0;
                bulk.computeIfAbsent(path.name(), x -> new ArrayList<>()).add(mbps);
                bulkCpu.computeIfAbsent(path.name(), x -> new ArrayList<>()).add(cpu / bulkMb * 1000);
                for (int clients : new int[] {1, 50}) {
                    for (Redis r : redisBenchmark(path, clients, requests)) {
                        redis.computeIfAbsent(path.name() + "|" + clients + "|" + r.test(), x -> new ArrayList<>()).add(r);
                    }
                }
                System.out.printf(Locale.ROOT, "round %d %s: bulk %.0f MB/s%n", round + 1, path.name(), mbps);
            }
        }
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        return report(paths, load0, load1);
    }

    private String tresor(String name, String mode, int listen, int target, String peersField, String cert) {
        String peer = mode.equals("server") ? "spiffe://tresor.local/ns/bench/sa/client" : "spiffe://tresor.local/ns/bench/sa/server";
        return """
                  - name: %s
                    mode: %s
                    listen: 127.0.0.1:%d
                    target: 127.0.0.1:%d
                    %s: [%s]
                    cert: %s/%s.crt
                    key: %s/%s.key
                    caBundle: %s/ca.pem
                """.formatted(name, mode, listen, target, peersField, peer, dir, cert, dir, cert, dir);
    }

    /** Sends {@code mb} MiB through the path's bulk port; MB/s from first byte to the sink's acknowledgement. */
    private double bulkTransfer(Path3 path, int mb) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        long total = (long) mb * 1024 * 1024;
        try (Socket socket = new Socket("127.0.0.1", path.bulkPort())) {
            socket.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            long start = System.nanoTime();
            out.writeLong(total);
            for (long sent = 0; sent < total; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
            if (socket.getInputStream().read() != 'k') {
                throw new IOException("the sink did not acknowledge through " + path.name());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return total / 1e6 / seconds;
        }
    }

    private List<Redis> redisBenchmark(Path3 path, int clients, int n) throws Exception {
        double cpu0 = ProcStat.cpuSeconds(path.pids());
        Path out = Files.createTempFile(dir, "rb-", ".csv");
        Process process = new ProcessBuilder("/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p",
                String.valueOf(path.redisPort()), "-c", String.valueOf(clients), "-n", String.valueOf(n),
                "-t", "ping_mbulk,set,get", "--csv").redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("redis-benchmark did not finish through " + path.name());
        }
        double cpu = ProcStat.cpuSeconds(path.pids()) - cpu0;
        List<Redis> results = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            String[] f = line.replace("\"", "").split(",");
            if (f.length < 7 || f[0].equals("test")) {
                continue;
            }
            results.add(new Redis(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[4]), Double.parseDouble(f[6]),
                    cpu * 1e6 / (3.0 * n)));
        }
        if (results.size() != 3) {
            throw new IllegalStateException("redis-benchmark through " + path.name() + " printed: "
                    + Files.readString(out));
        }
        return results;
    }

    private String report(List<Path3> paths, String load0, String load1) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# Tunnel: plain TCP vs stunnel4 vs Tresor tunnel (loopback)\n\n");
        md.append("Written by `bench/tunnel.sh`. ").append(machine()).append("\n\n");
        md.append("Each path is app → client proxy → (mTLS, TLS 1.3, TLS_AES_256_GCM_SHA384, ECDSA P-256 certificates, "
                + "the same files for both proxies) → server proxy → target; plain TCP is app → target. ")
                .append(rounds).append(" interleaved rounds (the order rotates), after warm-up rounds (until the virtual-thread Tresor pair's CPU per request stopped falling by 10 %); figures are "
                        + "medians over the rounds (min–max in brackets). Bulk: ").append(bulkMb)
                .append(" MiB one way through one connection into a sink. redis-benchmark: ").append(requests)
                .append(" requests per test, 3-byte values, no pipelining. \"CPU/req\" is user+system CPU of the two "
                        + "proxy processes together, divided by requests (all three tests of a run). The Tresor tunnels run as two JVMs "
                        + "(`" + tunnelJvmFlags() + "`), once with `threads: virtual` (a virtual thread per direction) and once "
                        + "with `threads: platform` (a platform thread per direction). Load average at start: `")
                .append(load0).append("`, at end: `").append(load1).append("`.\n\n");
        md.append("## Bulk transfer\n\n| path | MB/s | proxy CPU ms per MiB |\n|---|---|---|\n");
        for (Path3 path : paths) {
            md.append("| ").append(path.name()).append(" | ").append(stat(bulk.get(path.name()), "%.0f")).append(" | ")
                    .append(path.pids().isEmpty() ? "–" : stat(bulkCpu.get(path.name()), "%.2f")).append(" |\n");
        }
        md.append("\n## redis-benchmark latency (ms) and proxy CPU per request (µs)\n\n");
        md.append("| clients | test | path | req/s | p50 | p99 | p99 added vs plain | CPU/req µs |\n|---|---|---|---|---|---|---|---|\n");
        for (int clients : new int[] {1, 50}) {
            for (String test : List.of("PING_MBULK", "SET", "GET")) {
                double plainP99 = median(redis.get(paths.getFirst().name() + "|" + clients + "|" + test).stream()
                        .map(Redis::p99).toList());
                for (Path3 path : paths) {
                    List<Redis> runs = redis.get(path.name() + "|" + clients + "|" + test);
                    double p99 = median(runs.stream().map(Redis::p99).toList());
                    md.append("| ").append(clients).append(" | ").append(test).append(" | ").append(path.name())
                            .append(" | ").append(stat(runs.stream().map(Redis::rps).toList(), "%.0f"))
                            .append(" | ").append(stat(runs.stream().map(Redis::p50).toList(), "%.3f"))
                            .append(" | ").append(stat(runs.stream().map(Redis::p99).toList(), "%.3f"))
                            .append(" | ").append(path.pids().isEmpty() ? "–" : String.format(Locale.ROOT, "%+.3f", p99 - plainP99))
                            .append(" | ").append(path.pids().isEmpty() ? "–"
                                    : stat(runs.stream().map(Redis::cpuMicrosPerRequest).toList(), "%.1f"))
                            .append(" |\n");
                }
            }
        }
        return md.toString();
    }

    /**
     * The tunnel JVM's command line up to the main class: the flags {@code bin/tresor} gives
     * {@code tresor tunnel} (BENCH_TUNNEL_JVM overrides them, space-separated, to compare).
     */
    private static List<String> jvm(String java, String classPath, String... rest) {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(List.of(tunnelJvmFlags().split(" ")));
        command.addAll(List.of("-cp", classPath));
        command.addAll(List.of(rest));
        return command;
    }

    private static String tunnelJvmFlags() {
        String flags = System.getenv("BENCH_TUNNEL_JVM");
        return flags == null || flags.isBlank() ? "-Xmx256m" : flags.trim();
    }

    private static String machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 2)).orElse("?");
        return "nproc=" + Runtime.getRuntime().availableProcessors() + ", " + cpu + ", JDK " + System.getProperty("java.version")
                + "; compare paths within this run only (the load averages below say how busy the machine was).";
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String stat(List<Double> values, String format) {
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return String.format(Locale.ROOT, format + " (" + format + "–" + format + ")", median(values), min, max);
    }

    private void startSink(int port) throws IOException {
        ServerSocket sink = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    Socket s = sink.accept();
                    Thread.ofVirtual().start(() -> drain(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private static void drain(Socket socket) {
        try (socket) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            long total = in.readLong();
            byte[] buffer = new byte[64 * 1024];
            long read = 0;
            while (read < total) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, total - read));
                if (n < 0) {
                    return;
                }
                read += n;
            }
            OutputStream out = socket.getOutputStream();
            out.write('k');
            out.flush();
            InputStream rest = socket.getInputStream();
            while (rest.read(buffer) >= 0) {
                continue;
            }
        } catch (IOException ignored) {
            // the sender gave up; nothing to count
        }
    }

    private Process start(String name, List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start();
        started.add(process);
        return process;
    }

    private void stopAll() throws InterruptedException {
        for (Process process : started) {
            process.destroy();
        }
        for (Process process : started) {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private static void awaitPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("nothing listens on " + port + " after 60 s");
    }

    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }
}
