package dev.tresor.agent.reload;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Sends a named signal to a process. The JDK can only send TERM ({@link ProcessHandle#destroy()})
 * and KILL; HUP, USR1 and the rest (what nginx, Apache and PHP-FPM reload on) go through
 * {@code kill(1)}, which every base image has.
 */
public final class Signals {

    private Signals() {}

    /** @throws IOException if the process does not exist or the signal could not be sent */
    public static void send(long pid, String signal) throws IOException {
        ProcessHandle target = ProcessHandle.of(pid).orElseThrow(() -> new IOException("no process " + pid));
        if (signal.equals("TERM")) {
            if (!target.destroy()) {
                throw new IOException("cannot send SIGTERM to " + pid);
            }
            return;
        }
        if (signal.equals("KILL")) {
            target.destroyForcibly();
            return;
        }
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).redirectErrorStream(true).start();
        try {
            if (!kill.waitFor(10, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                throw new IOException("kill -s " + signal + " " + pid + " did not finish");
            }
            if (kill.exitValue() != 0) {
                throw new IOException("kill -s " + signal + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes()).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while signalling " + pid, e);
        }
    }
}
