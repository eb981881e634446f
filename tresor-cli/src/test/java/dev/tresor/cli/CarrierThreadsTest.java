package dev.tresor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CarrierThreadsTest {

    @Test
    void oneProcessorGetsTwoCarriers() {
        assertEquals(Optional.of("2"), CarrierThreads.parallelismFor(1, null));
    }

    @Test
    void twoOrMoreProcessorsKeepTheJdkDefault() {
        assertEquals(Optional.empty(), CarrierThreads.parallelismFor(2, null));
        assertEquals(Optional.empty(), CarrierThreads.parallelismFor(64, null));
    }

    @Test
    void anOperatorSettingWinsEvenIfLower() {
        assertEquals(Optional.empty(), CarrierThreads.parallelismFor(1, "1"));
    }

    @Test
    void onOneProcessorAVirtualThreadHoldingItsCarrierDoesNotStallTheOthers() throws Exception {
        Probe guarded = probe();
        assertEquals(0, guarded.exit(), guarded.output());
        assertEquals("ran", guarded.output());
    }

    @Test
    void withoutTheGuardTheProbeStarves() throws Exception {
        // Shows that the probe above can fail: one processor, one carrier, held.
        Probe unguarded = probe("unguarded");
        assertEquals(3, unguarded.exit(), unguarded.output());
        assertEquals("starved", unguarded.output());
    }

    private record Probe(int exit, String output) {}

    private static Probe probe(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ActiveProcessorCount=1", "-cp", System.getProperty("java.class.path"),
                CarrierProbe.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
        }
        assertTrue(exited, "the probe JVM did not exit within 60 s");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return new Probe(process.exitValue(), output);
    }
}
