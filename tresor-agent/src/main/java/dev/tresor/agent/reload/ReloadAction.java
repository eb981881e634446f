package dev.tresor.agent.reload;

import dev.tresor.agent.config.AgentConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What runs after files changed: a command (its exit code is reported; a failure is logged and
 * does not stop the agent, the files are already in place) and/or a signal to a PID or to the PID
 * in a pidfile (re-read each time, since the app may have restarted).
 */
public final class ReloadAction {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadAction.class);

    private final List<String> command;
    private final String signal;
    private final Long pid;
    private final Path pidFile;
    private final Duration timeout;

    public ReloadAction(AgentConfig.ReloadSpec spec) {
        this.command = spec.command();
        this.signal = spec.signal();
        this.pid = spec.pid();
        this.pidFile = spec.pidFile();
        this.timeout = spec.timeout();
    }

    /** Runs the action; throws with a message a person can act on if any part failed. */
    public void run(List<String> changedFiles) throws IOException {
        if (signal != null) {
            long target = pid != null ? pid : readPid();
            Signals.send(target, signal);
            LOG.info("sent SIG{} to {} after {} changed", signal, target, changedFiles);
        }
        if (!command.isEmpty()) {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT);
            // The command learns what changed, never the values.
            builder.environment().put("TRESOR_CHANGED_FILES", String.join(" ", changedFiles));
            Process process = builder.start();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new IOException("reload command " + command + " did not finish within " + timeout);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running the reload command", e);
            }
            if (process.exitValue() != 0) {
                throw new IOException("reload command " + command + " exited with " + process.exitValue());
            }
            LOG.info("reload command {} done after {} changed", command.getFirst(), changedFiles);
        }
    }

    private long readPid() throws IOException {
        String text = Files.readString(pidFile).strip();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException("pidfile " + pidFile + " does not hold a process id");
        }
    }
}
