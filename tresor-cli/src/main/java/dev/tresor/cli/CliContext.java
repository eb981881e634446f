package dev.tresor.cli;

import java.io.Console;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Everything a command needs from the outside world, handed to every command's constructor so
 * tests can run commands in-process with their own environment, streams and clock.
 *
 * @param env     environment variables (TRESOR_ADDR, ...)
 * @param home    the user's home folder (for ~/.tresor)
 * @param stdin   standard input (secret values given as {@code -})
 * @param out     standard output: results only, so pipes get clean data
 * @param err     standard error: messages and errors
 * @param console the interactive terminal, or null when not on one (values are then read from stdin)
 * @param clock   the time source
 * @param flags   connection options from the command line, filled while parsing
 */
record CliContext(Map<String, String> env, Path home, InputStream stdin, PrintStream out, PrintStream err,
                  Console console, Clock clock, ConnectionFlags flags) {

    String envOrNull(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value;
    }

    /** The same context with another environment and other streams (the AOT training run uses this). */
    CliContext with(Map<String, String> newEnv, InputStream newStdin, PrintStream newOut, PrintStream newErr) {
        return new CliContext(Map.copyOf(newEnv), home, newStdin, newOut, newErr, null, clock, new ConnectionFlags());
    }
}
