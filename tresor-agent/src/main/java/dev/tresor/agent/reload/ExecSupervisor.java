package dev.tresor.agent.reload;

import dev.tresor.agent.config.AgentConfig;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exec mode: the application is the agent's child. It gets the secrets as environment variables
 * (and/or reads the files), is restarted or signalled when they change, receives the SIGTERM or
 * SIGINT the agent gets, and its exit is the agent's exit (same code), as a process manager in a
 * container must behave. A restart the agent asked for is not an exit.
 */
public final class ExecSupervisor {

    private static final Logger LOG = LoggerFactory.getLogger(ExecSupervisor.class);

    private final List<String> command;
    private final AgentConfig.ExecSpec spec;
    private Process child;
    private boolean stopping;
    private int exitCode = -1;

    public ExecSupervisor(List<String> command, AgentConfig.ExecSpec spec) {
        this.command = List.copyOf(command);
        this.spec = spec;
    }

    /** Starts the child with {@code env} added to the agent's environment. */
    public synchronized void start(Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().putAll(env);
        try {
            child = builder.start();
        } catch (IOException e) {
            // Nothing to supervise: end the agent as a shell would for a command it cannot run.
            exitCode = 127;
            notifyAll();
            throw e;
        }
        LOG.info("started {} (pid {})", command.getFirst(), child.pid());
        Process started = child;
        started.onExit().thenAccept(this::exited);
    }

    private synchronized void exited(Process process) {
        if (process != child) {
            return; // an old child we restarted on purpose
        }
        exitCode = process.exitValue();
        LOG.info("{} (pid {}) exited with {}", command.getFirst(), process.pid(), exitCode);
        notifyAll();
    }

    /** After a change: restart with fresh variables ({@code envChanged} forces it), or send the configured signal. */
    public void changed(Map<String, String> env, boolean envChanged) throws IOException {
        Process old;
        synchronized (this) {
            if (stopping || exitCode >= 0) {
                return;
            }
            if (!spec.restart() && !envChanged) {
                Signals.send(child.pid(), spec.signal());
                LOG.info("sent SIG{} to {} (pid {})", spec.signal(), command.getFirst(), child.pid());
                return;
            }
            old = child;
            child = null; // so its exit is not taken for the app's exit
        }
        stop(old);
        synchronized (this) {
            if (!stopping) {
                start(env);
            }
        }
    }

    private void stop(Process process) throws IOException {
        try {
            Signals.send(process.pid(), spec.restart() ? spec.signal() : "TERM");
        } catch (IOException alreadyGone) {
            // it exited meanwhile
        }
        try {
            if (!process.waitFor(spec.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} did not stop within {}; killing it", command.getFirst(), spec.stopTimeout());
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while restarting the child", e);
        }
    }

    /** Passes a signal the agent received (TERM, INT) on; the child's exit then ends the agent. */
    public void forward(String signal) {
        Process target;
        synchronized (this) {
            stopping = true;
            target = child;
        }
        if (target != null) {
            try {
                Signals.send(target.pid(), signal);
            } catch (IOException e) {
                LOG.warn("cannot forward SIG{}: {}", signal, e.getMessage());
            }
        } else {
            // No child yet (still waiting for the first render): exit as a shell killed by it would.
            synchronized (this) {
                if (exitCode < 0) {
                    exitCode = 128 + (signal.equals("INT") ? 2 : 15);
                    notifyAll();
                }
            }
        }
    }

    /** Blocks until the child exits on its own (or after a forwarded signal) and returns its exit code. */
    public synchronized int awaitExit() throws InterruptedException {
        while (exitCode < 0) {
            wait();
        }
        return exitCode;
    }

    public synchronized boolean exited() {
        return exitCode >= 0;
    }

    /** Kills the child if it still runs (the agent is going down for another reason). */
    public void kill() {
        Process target;
        synchronized (this) {
            stopping = true;
            target = child;
        }
        if (target != null && target.isAlive()) {
            target.destroy();
            try {
                if (!target.waitFor(spec.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    target.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                target.destroyForcibly();
            }
        }
    }
}
