package dev.tresor.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM's JIT activity: the number of compilations it has done so far ({@code sun.ci.totalCompiles},
 * the "Compiled" column of {@code jstat -compiler PID}), read from the JVM's performance-data
 * file ({@code /tmp/hsperfdata_USER/PID}) rather than by starting a {@code jstat} JVM per sample,
 * which would cost more CPU than the compiler activity it looks for.
 */
final class JitQuiet {

    /** One observation: seconds since warm-up began, methods compiled so far. */
    record Sample(double atSeconds, long compiled) {}

    private static final String COUNTER = "sun.ci.totalCompiles";

    private final Path perfData;
    private final long pid;
    private final List<Sample> samples = new ArrayList<>();

    JitQuiet(long pid) {
        this.pid = pid;
        this.perfData = Path.of(System.getProperty("java.io.tmpdir"), "hsperfdata_" + System.getProperty("user.name"),
                Long.toString(pid));
    }

    /** Compilations so far, or an exception naming the file if the JVM publishes no performance data. */
    long compiled() {
        ByteBuffer b;
        try {
            b = ByteBuffer.wrap(Files.readAllBytes(perfData));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the JIT counters of JVM " + pid + " (" + perfData
                    + "; started with -XX:-UsePerfData?)", e);
        }
        // Layout (HotSpot perfMemory.hpp): magic, byte order, versions, then entry offset and count
        // at bytes 24 and 28; each entry: length, name offset, vector length, type, flags, units,
        // variability, data offset; names are NUL-terminated ASCII.
        if (b.getInt(0) != 0xcafec0c0) {
            throw new IllegalStateException(perfData + " is not a HotSpot performance-data file");
        }
        b.order(b.get(4) == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int entry = b.getInt(24);
        int entries = b.getInt(28);
        for (int i = 0; i < entries; i++) {
            int length = b.getInt(entry);
            int nameStart = entry + b.getInt(entry + 4);
            int nameEnd = nameStart;
            while (b.get(nameEnd) != 0) {
                nameEnd++;
            }
            String name = new String(b.array(), nameStart, nameEnd - nameStart, StandardCharsets.US_ASCII);
            if (name.equals(COUNTER) && b.get(entry + 12) == 'J') {
                return b.getLong(entry + b.getInt(entry + 16));
            }
            entry += length;
        }
        throw new IllegalStateException(COUNTER + " not found in " + perfData);
    }

    /** A settle check for {@link LoadGenerator.Spec#settle()}: true once a second passed with no compilation. */
    java.util.function.BooleanSupplier settleCheck() {
        long[] last = {-1};
        return () -> {
            long now = compiled();
            boolean quiet = now == last[0];
            last[0] = now;
            return quiet;
        };
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
