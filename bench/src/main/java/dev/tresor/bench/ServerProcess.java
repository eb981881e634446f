package dev.tresor.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code tresor server --config FILE} process started through {@code bin/tresor} (the JVM flags
 * of production), with its start-up time measured up to the first ready {@code /readyz}.
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final double startupSeconds;

    private ServerProcess(Process process, double startupSeconds) {
        this.process = process;
        this.startupSeconds = startupSeconds;
    }

    static ServerProcess start(Path repoRoot, Path config, int managementPort, Path log, List<String> extraJavaOpts)
            throws IOException, InterruptedException {
        return start(repoRoot, config, managementPort, log, extraJavaOpts, java.util.Map.of());
    }

    /**
     * As {@link #start(Path, Path, int, Path, List)}, with {@code environment} added to the
     * server's (a key provider's credentials reach a server as its environment, never its config).
     */
    static ServerProcess start(Path repoRoot, Path config, int managementPort, Path log, List<String> extraJavaOpts,
                               java.util.Map<String, String> environment) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(repoRoot.resolve("bin/tresor").toString(), "server", "--config", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(environment);
        pb.environment().put("TRESOR_NO_BUILD", "1");
        if (!extraJavaOpts.isEmpty()) {
            pb.environment().put("TRESOR_JAVA_OPTS", String.join(" ", extraJavaOpts));
        }
        long t0 = System.nanoTime();
        Process p = pb.start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI ready = URI.create("http://127.0.0.1:" + managementPort + "/readyz");
        long deadline = t0 + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("tresor server exited with " + p.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return new ServerProcess(p, (System.nanoTime() - t0) / 1e9);
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        p.destroyForcibly();
        throw new IllegalStateException("tresor server not ready within 10 min; see " + log);
    }

    long pid() {
        return process.pid();
    }

    double startupSeconds() {
        return startupSeconds;
    }

    /** Heap used right after a full GC, in MiB (jcmd GC.run, then GC.heap_info). */
    double heapAfterGcMiB() {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            run(jcmd.toString(), Long.toString(pid()), "GC.run");
            String info = run(jcmd.toString(), Long.toString(pid()), "GC.heap_info");
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
            return m.find() ? Long.parseLong(m.group(1)) / 1024.0 : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    /** SIGKILL (a node that dies: no drain, no clean close), and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** SIGTERM (a clean stop that closes the audit log), SIGKILL after 30 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
