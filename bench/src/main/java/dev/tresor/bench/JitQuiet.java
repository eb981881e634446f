package dev.tresor.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads a JVM's JIT activity with {@code jstat -compiler PID}: the number of methods compiled so far. */
final class JitQuiet {

    /** One observation: seconds since warm-up began, methods compiled so far. */
    record Sample(double atSeconds, long compiled) {}

    private final Path jstat;
    private final long pid;
    private final List<Sample> samples = new ArrayList<>();

    JitQuiet(long pid) {
        this.pid = pid;
        this.jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
    }

    long compiled() {
        try {
            Process p = new ProcessBuilder(jstat.toString(), "-compiler", Long.toString(pid)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("jstat -compiler " + pid + " failed: " + out.strip());
            }
            String[] lines = out.strip().split("\n");
            return Long.parseLong(lines[lines.length - 1].strip().split("\\s+")[0]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + jstat, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    void sample(double atSeconds) {
        samples.add(new Sample(atSeconds, compiled()));
    }

    /** True when the last {@code quietSamples} intervals added no compiled method. */
    boolean quiet(int quietSamples) {
        if (samples.size() <= quietSamples) {
            return false;
        }
        long last = samples.getLast().compiled();
        return samples.get(samples.size() - 1 - quietSamples).compiled() == last;
    }

    List<Sample> samples() {
        return List.copyOf(samples);
    }
}
