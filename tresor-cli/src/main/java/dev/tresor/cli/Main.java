package dev.tresor.cli;

import java.io.Console;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;

/** The {@code tresor} executable. */
public final class Main {

    private Main() {}

    public static void main(String[] args) {
        CarrierThreads.keepAtLeastTwo();
        // UTF-8 whatever the locale: secret values and names are UTF-8 on the server, and a C
        // locale must not turn them into question marks.
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        Console console = System.console();
        CliContext context = new CliContext(System.getenv(), Path.of(System.getProperty("user.home")), System.in, out, err,
                console != null && console.isTerminal() ? console : null, Clock.systemUTC(), new ConnectionFlags());
        int exitCode = Cli.run(context, args);
        out.flush();
        err.flush();
        System.exit(exitCode);
    }
}
