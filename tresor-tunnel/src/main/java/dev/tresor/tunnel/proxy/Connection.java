package dev.tresor.tunnel.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A pair of connected sockets with bytes copied both ways at once, each direction on its own
 * virtual thread with a blocking read and a blocking write: while the receiving side does not
 * read, the write blocks, so this side stops reading and TCP flow control pushes back on the
 * sender (backpressure, no unbounded buffer). End of stream in one direction is passed on as a
 * half-close ({@link Socket#shutdownOutput()}: a FIN on TCP, close_notify on TLS 1.3, whose
 * other direction stays open), and the connection ends when both directions have ended or
 * either fails.
 */
final class Connection {

    private static final int BUFFER_BYTES = 32 * 1024;

    private final ConnectionInfo info;
    private final Socket accepted;
    private final Socket forwarded;
    private final TunnelMetrics metrics;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile long bytesIn;
    private volatile long bytesOut;

    private final java.util.concurrent.ThreadFactory threads;

    /** The certificate the TLS peer presented, re-checked when a new CRL arrives. */
    private final java.security.cert.X509Certificate peerCertificate;

    Connection(ConnectionInfo info, java.security.cert.X509Certificate peerCertificate, Socket accepted, Socket forwarded,
               TunnelMetrics metrics, java.util.concurrent.ThreadFactory threads) {
        this.peerCertificate = peerCertificate;
        this.threads = threads;
        this.info = info;
        this.accepted = accepted;
        this.forwarded = forwarded;
        this.metrics = metrics;
    }

    java.security.cert.X509Certificate peerCertificate() {
        return peerCertificate;
    }

    ConnectionInfo info() {
        return info;
    }

    long idleNanos() {
        return System.nanoTime() - lastActivityNanos;
    }

    long bytesIn() {
        return bytesIn;
    }

    long bytesOut() {
        return bytesOut;
    }

    /** Copies until both directions are done; returns with both sockets closed. */
    void run() throws InterruptedException {
        Thread inward = threads.newThread(() -> pump(accepted, forwarded, true));
        inward.start();
        pump(forwarded, accepted, false);
        inward.join();
        close();
    }

    private void pump(Socket from, Socket to, boolean inward) {
        byte[] buffer = new byte[BUFFER_BYTES];
        long total = 0;
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (n == 0) {
                    continue;
                }
                out.write(buffer, 0, n);
                total += n;
                lastActivityNanos = System.nanoTime();
                if (inward) {
                    bytesIn = total;
                    metrics.bytesIn(n);
                } else {
                    bytesOut = total;
                    metrics.bytesOut(n);
                }
            }
            if (!to.isOutputShutdown() && !to.isClosed()) {
                to.shutdownOutput();
            }
        } catch (IOException e) {
            // A reset, a closed socket or a TLS error on either side: nothing more can be forwarded either way.
            close();
        }
    }

    /** Closes both sockets (idempotent); any blocked read or write returns at once. */
    void close() {
        if (closed.compareAndSet(false, true)) {
            closeQuietly(accepted);
            closeQuietly(forwarded);
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all we wanted; a failed close_notify on a dead connection changes nothing.
        }
    }
}
