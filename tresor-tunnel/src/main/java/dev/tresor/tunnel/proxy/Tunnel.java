package dev.tresor.tunnel.proxy;

import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.tls.CertificateSource;
import dev.tresor.tunnel.tls.PeerRefusedException;
import dev.tresor.tunnel.tls.PeerVerifier;
import dev.tresor.tunnel.tls.Refusal;
import dev.tresor.tunnel.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listening tunnel. A server tunnel accepts TLS from allowed identities and forwards
 * plaintext to its target; a client tunnel accepts plaintext and forwards over mTLS to a server
 * with the expected identity. One virtual thread accepts, each connection gets a virtual thread
 * per direction on blocking sockets (see {@link Connection}).
 */
public final class Tunnel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Tunnel.class);

    private final TunnelSpec spec;
    private final TlsContext tls;
    private final CertificateSource certificates;
    private final TunnelMetrics metrics;
    private final Semaphore slots;
    private final Map<Long, Connection> open = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile ServerSocket listener;
    private volatile boolean accepting;
    private final java.util.concurrent.ThreadFactory threads;
    private Thread acceptor;
    private Thread reaper;

    public Tunnel(TunnelSpec spec, TlsContext tls, CertificateSource certificates, TunnelMetrics metrics,
            java.util.concurrent.ThreadFactory threads) {
        this.spec = spec;
        this.threads = threads;
        this.tls = tls;
        this.certificates = certificates;
        this.metrics = metrics;
        this.slots = new Semaphore(spec.maxConnections());
    }

    /** Binds the listen address and starts accepting. */
    public synchronized void start() throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        try {
            socket.bind(spec.listen().resolve(), 512);
        } catch (IOException e) {
            socket.close();
            throw new IOException("tunnel " + spec.name() + ": cannot listen on " + spec.listen() + ": " + e.getMessage()
                    + " (is another process using the port?)", e);
        }
        listener = socket;
        accepting = true;
        acceptor = Thread.ofVirtual().name("tunnel-accept-" + spec.name()).start(this::acceptLoop);
        reaper = Thread.ofVirtual().name("tunnel-idle-" + spec.name()).start(this::reapIdle);
        LOG.info("tunnel {}: {} listening on {}, forwarding to {}, {} {}", spec.name(), spec.mode().name().toLowerCase(),
                socket.getLocalSocketAddress(), spec.target(), spec.mode() == Mode.SERVER ? "allowing" : "expecting",
                spec.peers());
    }

    public TunnelSpec spec() {
        return spec;
    }

    public TunnelMetrics metrics() {
        return metrics;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return listener.getLocalPort();
    }

    public boolean isAccepting() {
        return accepting;
    }

    public List<ConnectionInfo> connections() {
        return open.values().stream().map(Connection::info).toList();
    }

    private void acceptLoop() {
        while (accepting) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                if (accepting) {
                    LOG.warn("tunnel {}: accept failed: {}", spec.name(), e.getMessage());
                    continue;
                }
                return;
            }
            if (!accepting) {
                refuse(socket, Refusal.SHUTTING_DOWN, "-", "the tunnel is shutting down");
                continue;
            }
            if (!slots.tryAcquire()) {
                refuse(socket, Refusal.MAX_CONNECTIONS, "-", "already " + spec.maxConnections()
                        + " open connections (maxConnections)");
                continue;
            }
            threads.newThread(() -> {
                try {
                    serve(socket);
                } finally {
                    slots.release();
                }
            }).start();
        }
    }

    private void serve(Socket socket) {
        String from = String.valueOf(socket.getRemoteSocketAddress());
        Socket accepted = socket;
        Socket forwarded = null;
        try {
            socket.setTcpNoDelay(true);
            PeerVerifier.Accepted peer;
            SSLSession session;
            String localSerial = certificates.current().serialHex();
            if (spec.mode() == Mode.SERVER) {
                SSLSocket secured = (SSLSocket) tls.context().getSocketFactory()
                        .createSocket(socket, null, socket.getPort(), true);
                tls.configure(secured, true);
                accepted = secured;
                peer = handshake(secured);
                session = secured.getSession();
                localSerial = localSerial(session, localSerial);
                forwarded = connectTarget();
            } else {
                SSLSocket secured = connectTls();
                forwarded = secured;
                peer = handshake(secured);
                session = secured.getSession();
                localSerial = localSerial(session, localSerial);
            }
            ConnectionInfo info = new ConnectionInfo(ids.incrementAndGet(), from, peer.identity(), peer.serial(),
                    localSerial, Instant.now());
            Connection connection = new Connection(info, peer.certificate(), accepted, forwarded, metrics, threads);
            open.put(info.id(), connection);
            metrics.opened();
            LOG.info("tunnel {}: #{} {} {} (serial {}) from {} to {}, {} {}", spec.name(), info.id(),
                    spec.mode() == Mode.SERVER ? "accepted" : "connected to", peer.identity(), peer.serial(), from,
                    spec.target(), session.getProtocol(), session.getCipherSuite());
            long started = System.nanoTime();
            try {
                connection.run();
            } finally {
                open.remove(info.id());
                metrics.closed();
                LOG.info("tunnel {}: #{} closed after {} ms, {} bytes in, {} bytes out", spec.name(), info.id(),
                        (System.nanoTime() - started) / 1_000_000, connection.bytesIn(), connection.bytesOut());
            }
        } catch (Refused refused) {
            refuse(accepted, refused.reason, refused.identity, refused.getMessage());
            closeQuietly(forwarded);
        } catch (IOException e) {
            refuse(accepted, Refusal.HANDSHAKE_FAILED, "-", e.getMessage());
            closeQuietly(forwarded);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(accepted);
            closeQuietly(forwarded);
        }
    }

    private static String localSerial(SSLSession session, String fallback) {
        Certificate[] local = session.getLocalCertificates();
        return local != null && local.length > 0 && local[0] instanceof X509Certificate leaf
                ? leaf.getSerialNumber().toString(16) : fallback;
    }

    /** Runs the handshake within the handshake timeout, then checks the peer again (resumed sessions skip the trust manager). */
    private PeerVerifier.Accepted handshake(SSLSocket socket) throws Refused {
        try {
            socket.setSoTimeout(Math.toIntExact(spec.handshakeTimeout().toMillis()));
            socket.startHandshake();
            SSLSession session = socket.getSession();
            Certificate[] chain = session.getPeerCertificates();
            X509Certificate[] x509 = new X509Certificate[chain.length];
            for (int i = 0; i < chain.length; i++) {
                x509[i] = (X509Certificate) chain[i];
            }
            PeerVerifier.Accepted peer = tls.verifier().authorize(x509);
            socket.setSoTimeout(0);
            return peer;
        } catch (PeerRefusedException e) {
            throw new Refused(e.reason(), e.identity(), e.getMessage());
        } catch (SocketTimeoutException e) {
            throw new Refused(Refusal.HANDSHAKE_TIMEOUT, "-", "no TLS handshake within " + spec.handshakeTimeout()
                    + " (handshakeTimeout)");
        } catch (SSLException e) {
            var refused = PeerRefusedException.in(e);
            if (refused.isPresent()) {
                throw new Refused(refused.get().reason(), refused.get().identity(), refused.get().getMessage());
            }
            String hint = String.valueOf(e.getMessage()).contains("Received fatal alert")
                    ? " (the peer refused this tunnel's certificate or the protocol; see the peer's log)" : "";
            throw new Refused(Refusal.HANDSHAKE_FAILED, "-", "TLS handshake failed: " + e.getMessage() + hint);
        } catch (IOException e) {
            throw new Refused(Refusal.HANDSHAKE_FAILED, "-", "TLS handshake failed: " + e.getMessage());
        }
    }

    private Socket connectTarget() throws Refused {
        Socket target = new Socket();
        try {
            target.setTcpNoDelay(true);
            target.connect(new InetSocketAddress(spec.target().host(), spec.target().port()),
                    Math.toIntExact(spec.connectTimeout().toMillis()));
            return target;
        } catch (IOException e) {
            closeQuietly(target);
            throw new Refused(Refusal.TARGET_UNREACHABLE, "-", "cannot connect to the target " + spec.target() + ": "
                    + e.getMessage());
        }
    }

    private SSLSocket connectTls() throws Refused, IOException {
        // Every tunnel connection is a full handshake, so the server sees our current certificate and we see its.
        tls.forgetSessions();
        Socket raw = connectTarget();
        SSLSocketFactory factory = tls.context().getSocketFactory();
        SSLSocket secured = (SSLSocket) factory.createSocket(raw, spec.target().host(), spec.target().port(), true);
        tls.configure(secured, false);
        return secured;
    }

    private void refuse(Socket socket, Refusal reason, String identity, String detail) {
        metrics.refused(reason);
        LOG.warn("tunnel {}: refused {} from {} ({}): {}", spec.name(), identity, socket == null ? "-"
                : socket.getRemoteSocketAddress(), reason.label(), detail);
        closeQuietly(socket);
    }

    private void reapIdle() {
        long idle = spec.idleTimeout().toNanos();
        long tick = Math.max(10, Math.min(1000, spec.idleTimeout().toMillis() / 4));
        while (true) {
            try {
                Thread.sleep(tick);
            } catch (InterruptedException e) {
                return;
            }
            for (Connection connection : open.values()) {
                if (connection.idleNanos() > idle) {
                    LOG.info("tunnel {}: #{} idle for more than {} (idleTimeout), closing", spec.name(),
                            connection.info().id(), spec.idleTimeout());
                    connection.close();
                }
            }
        }
    }

    /** Stops accepting: the port is closed, so new connections are refused by the OS. Open ones go on. */
    public void stopAccepting() {
        accepting = false;
        closeQuietly(listener);
    }

    /** Waits until no connection is open, at most until {@code deadline}; true if none is left. */
    public boolean awaitDrained(Instant deadline) throws InterruptedException {
        while (!open.isEmpty()) {
            if (Instant.now().isAfter(deadline)) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /**
     * Closes the open connections whose peer certificate {@code revoked} now refuses: a revocation
     * (a new CRL) cuts a connection that is already open, not only the next handshake.
     *
     * @return how many were closed
     */
    public int closeRevoked(java.util.function.Predicate<java.security.cert.X509Certificate> revoked) {
        int closed = 0;
        for (Connection connection : open.values()) {
            if (revoked.test(connection.peerCertificate())) {
                LOG.warn("tunnel {}: #{} {} (serial {}) is revoked by the new CRL; closing the open connection", spec.name(),
                        connection.info().id(), connection.info().peerIdentity(), connection.info().peerSerial());
                connection.close();
                closed++;
            }
        }
        return closed;
    }

    /** Closes every open connection now. */
    public void closeAll() {
        open.values().forEach(Connection::close);
    }

    /** Stops accepting and closes every connection at once (no draining). */
    @Override
    public void close() {
        stopAccepting();
        closeAll();
        if (reaper != null) {
            reaper.interrupt();
        }
        if (acceptor != null) {
            acceptor.interrupt();
        }
    }

    /** Drains: stop accepting, let open connections finish for up to {@code timeout}, then close the rest. */
    public int drain(Duration timeout) throws InterruptedException {
        stopAccepting();
        awaitDrained(Instant.now().plus(timeout));
        int left = open.size();
        close();
        return left;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // Nothing to do: the socket is gone either way.
            }
        }
    }

    /** A refusal on its way from the handshake to the log line and the metric. */
    private static final class Refused extends Exception {
        private final Refusal reason;
        private final String identity;

        Refused(Refusal reason, String identity, String message) {
            super(message, null, false, false);
            this.reason = reason;
            this.identity = identity;
        }
    }
}
