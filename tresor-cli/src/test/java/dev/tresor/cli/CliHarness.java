package dev.tresor.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/** Runs the CLI in this JVM with a given environment and home folder, capturing its output. */
final class CliHarness {

    record Run(int exitCode, String out, String err) {}

    private CliHarness() {}

    static Run run(Map<String, String> env, Path home, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CliContext context = context(env, home, out, err);
        int code = Cli.run(context, args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static CliContext context(Map<String, String> env, Path home, ByteArrayOutputStream out, ByteArrayOutputStream err) {
        return new CliContext(Map.copyOf(env), home, new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                null, Clock.systemUTC(), new ConnectionFlags());
    }
}
