package dev.tresor.cli;

import dev.tresor.server.TresorServer;
import dev.tresor.server.config.ServerSettings;
import java.io.PrintStream;
import java.net.BindException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starting a server in this process and keeping it up until SIGINT/SIGTERM. The shutdown hook
 * closes it in order (API, management, audit close record, store), so Ctrl-C never leaves a
 * half-written audit log behind.
 */
final class ServerLifecycle {

    private ServerLifecycle() {}

    /** Starts the server; a failure becomes one line that says what to fix (usually: the port is taken). */
    static TresorServer start(ServerSettings settings, String configHint) {
        ServerLogging.apply(settings.logging());
        try {
            return TresorServer.start(settings);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw CliException.error("cannot listen on " + settings.apiAddress().getHostString() + ":"
                            + settings.apiAddress().getPort() + " or " + settings.managementAddress().getHostString() + ":"
                            + settings.managementAddress().getPort() + ": " + t.getMessage()
                            + "; stop the other process or change listen in " + configHint);
                }
            }
            throw CliException.error("the server could not start: " + Cli.describe(e));
        }
    }

    /**
     * Blocks until the process is asked to stop (SIGINT/SIGTERM), when the shutdown hook closes
     * the server. Should the server stop by itself instead, that is reported as an error.
     */
    static void runUntilStopped(TresorServer server, PrintStream err) throws InterruptedException {
        AtomicBoolean stopRequested = new AtomicBoolean();
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("tresor-shutdown").unstarted(() -> {
            stopRequested.set(true);
            err.println("stopping Tresor...");
            try {
                server.close();
                err.println("Tresor stopped");
            } finally {
                closed.countDown();
            }
        }));
        server.join();
        if (stopRequested.get()) {
            closed.await();
            return;
        }
        server.close();
        throw CliException.error("the server stopped unexpectedly; see the log above");
    }
}
