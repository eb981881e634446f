package dev.tresor.tunnel.cli;

import dev.tresor.tunnel.config.TunnelsConfig;
import dev.tresor.tunnel.proxy.Tunnel;
import dev.tresor.tunnel.proxy.TunnelRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.CountDownLatch;

/** Runs tunnels in the foreground until SIGTERM/SIGINT, which drains them (see {@link TunnelRuntime#drain()}). */
final class TunnelProcess {

    static final int OK = 0;
    static final int ERROR = 1;
    static final int USAGE = 2;

    private TunnelProcess() {}

    static int run(TunnelsConfig config, PrintWriter out, PrintWriter err) {
        TunnelRuntime runtime;
        try {
            runtime = new TunnelRuntime(config);
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("tresor: " + e.getMessage());
            err.flush();
            return ERROR;
        } catch (java.io.UncheckedIOException e) {
            err.println("tresor: " + e.getMessage());
            err.flush();
            return ERROR;
        }
        try {
            runtime.start();
        } catch (IOException e) {
            err.println("tresor: " + e.getMessage());
            err.flush();
            return ERROR;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runtime.drain();
            } catch (InterruptedException e) {
                runtime.close();
            } finally {
                stopped.countDown();
            }
        }, "tunnel-drain"));
        for (Tunnel tunnel : runtime.tunnels()) {
            out.println("tunnel " + tunnel.spec().name() + " (" + tunnel.spec().mode().name().toLowerCase()
                    + ") listening on " + tunnel.spec().listen().host() + ":" + tunnel.port() + " -> " + tunnel.spec().target());
        }
        if (runtime.managementPort() > 0) {
            out.println("management on " + config.management().host() + ":" + runtime.managementPort());
        }
        out.println("ready");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return OK;
    }
}
