package dev.tresor.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** Medians, machine description and JSON/markdown helpers shared by the benchmark programs. */
final class Reports {

    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Reports() {}

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Median, minimum and maximum of one figure over repeated runs. */
    record Spread(double median, double min, double max, int n) {

        static <T> Spread of(List<T> runs, ToDoubleFunction<T> figure) {
            List<Double> v = new ArrayList<>();
            for (T r : runs) {
                v.add(figure.applyAsDouble(r));
            }
            if (v.isEmpty()) {
                return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
            }
            Collections.sort(v);
            int n = v.size();
            double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
            return new Spread(median, v.getFirst(), v.getLast(), n);
        }

        String format(String pattern) {
            if (n == 0) {
                return "-";
            }
            return fmt(pattern, median) + " (" + fmt(pattern, min) + "–" + fmt(pattern, max) + ")";
        }
    }

    static String fmt(String pattern, double v) {
        return String.format(Locale.ROOT, pattern, v);
    }

    /** nproc, CPU model, memory, kernel, JDK, load: what a reader needs to judge the figures. */
    record Machine(int cpus, String cpuModel, long memoryMiB, String kernel, String jdk, double load1, double load5,
                   double load15, String at) {

        static Machine describe() {
            String model = "?";
            long memKb = 0;
            try {
                for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (l.startsWith("model name")) {
                        model = l.substring(l.indexOf(':') + 1).strip();
                        break;
                    }
                }
                for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (l.startsWith("MemTotal:")) {
                        memKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                    }
                }
                String[] load = Files.readString(Path.of("/proc/loadavg")).split(" ");
                String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
                return new Machine(Runtime.getRuntime().availableProcessors(), model, memKb / 1024, kernel,
                        System.getProperty("java.runtime.version"), Double.parseDouble(load[0]), Double.parseDouble(load[1]),
                        Double.parseDouble(load[2]), Instant.now().toString());
            } catch (IOException e) {
                throw new IllegalStateException("cannot describe the machine from /proc", e);
            }
        }

        String markdown() {
            return String.format(Locale.ROOT, "`nproc`=%d, CPU: %s, memory %d MiB, Linux %s, JDK %s; load average "
                    + "%.2f / %.2f / %.2f (1/5/15 min) at %s", cpus, cpuModel, memoryMiB, kernel, jdk, load1, load5, load15, at);
        }
    }
}
