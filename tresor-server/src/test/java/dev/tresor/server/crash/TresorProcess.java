package dev.tresor.server.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Tresor server running in a separate JVM ({@link CrashServerMain}) on the test's class path.
 * Its stderr (the server log) goes to a file in the data folder, so a failed start can be shown.
 * {@link #close()} always SIGKILLs a process that is still alive.
 */
final class TresorProcess implements AutoCloseable {

    /** Bounds a start on a busy 2-core machine; a healthy start takes a few seconds. */
    private static final long START_TIMEOUT_SECONDS = 45;
    private static final long EXIT_TIMEOUT_SECONDS = 30;

    private final Process process;
    private final BufferedReader stdout;
    private final Path serverLog;
    private final int apiPort;

    private TresorProcess(Process process, BufferedReader stdout, Path serverLog, int apiPort) {
        this.process = process;
        this.stdout = stdout;
        this.serverLog = serverLog;
        this.apiPort = apiPort;
    }

    /** Starts a server on {@code config} and waits until it listens; {@code adminIdentity} may be null. */
    static TresorProcess start(Path config, String adminIdentity, Path serverLog) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                CrashServerMain.class.getName(), config.toString()));
        if (adminIdentity != null) {
            command.add(adminIdentity);
        }
        Process process = new ProcessBuilder(command)
                .redirectError(serverLog.toFile())
                .start();
        try {
            BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> ready = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    ready.complete(stdout.readLine());
                } catch (IOException e) {
                    ready.completeExceptionally(e);
                }
            });
            String line;
            try {
                line = ready.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("server did not start within " + START_TIMEOUT_SECONDS + " s; its log:\n" + tail(serverLog));
            } catch (ExecutionException e) {
                throw new AssertionError("cannot read the server's output; its log:\n" + tail(serverLog), e.getCause());
            }
            if (line == null || !line.startsWith("READY ")) {
                throw new AssertionError("server failed to start (said " + line + "); its log:\n" + tail(serverLog));
            }
            return new TresorProcess(process, stdout, serverLog, Integer.parseInt(line.substring("READY ".length()).strip()));
        } catch (Exception | Error e) {
            process.destroyForcibly();
            process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            throw e;
        }
    }

    int apiPort() {
        return apiPort;
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook, no close record, no flush of anything still in the JVM. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("killed server exited").isTrue();
        // 128 + 9: the process really died of SIGKILL rather than exiting on its own.
        assertThat(process.exitValue()).as("exit status of the killed server").isEqualTo(137);
    }

    /** Orderly shutdown: the server closes its audit log (its last record says so) and exits 0. */
    void stop() throws Exception {
        OutputStream in = process.getOutputStream();
        in.write("stop\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        CompletableFuture<String> stopped = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                stopped.complete(stdout.readLine());
            } catch (IOException e) {
                stopped.completeExceptionally(e);
            }
        });
        String line = stopped.get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertThat(line).as("server's answer to stop; its log:\n%s", tail(serverLog)).isEqualTo("STOPPED");
        assertThat(process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("stopped server exited").isTrue();
        assertThat(process.exitValue()).isZero();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "(no log)";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
