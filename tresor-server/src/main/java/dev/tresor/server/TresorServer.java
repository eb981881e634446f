package dev.tresor.server;

import dev.tresor.Tresor;
import dev.tresor.api.ApiHandler;
import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditSink;
import dev.tresor.audit.AuditUnavailableException;
import dev.tresor.audit.FileAuditSink;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.TrustMaterial;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles a running Tresor server from its settings: key provider, store, audit, the mTLS
 * API on one port and the management endpoints on another. {@link #close()} stops both and
 * closes the audit log cleanly (its last record says so).
 */
public final class TresorServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TresorServer.class);

    private final Server api;
    private final Server management;
    private final ServerConnector apiConnector;
    private final ServerConnector managementConnector;
    private final Store store;
    private final AuditLog audit;
    private final List<AuditSink> sinks;
    private final Tresor tresor;
    private final TresorMetrics metrics;
    private volatile boolean closing;

    private TresorServer(Server api, Server management, ServerConnector apiConnector, ServerConnector managementConnector,
                         Store store, AuditLog audit, List<AuditSink> sinks, Tresor tresor, TresorMetrics metrics) {
        this.api = api;
        this.management = management;
        this.apiConnector = apiConnector;
        this.managementConnector = managementConnector;
        this.store = store;
        this.audit = audit;
        this.sinks = sinks;
        this.tresor = tresor;
        this.metrics = metrics;
    }

    public static TresorServer start(ServerSettings settings) {
        return start(settings, Clock.systemUTC());
    }

    public static TresorServer start(ServerSettings s, Clock clock) {
        KeyProvider keys = LocalKeyProvider.load(s.keyFile());
        TresorMetrics metrics = new TresorMetrics();
        List<AuditSink> sinks = new ArrayList<>();
        Store store = null;
        try {
            for (var file : s.auditFiles()) {
                sinks.add(new FileAuditSink(file, keys, s.auditFsyncInterval(), clock));
            }
            AuditLog audit = new AuditLog(sinks, s.auditWriteTimeout());
            IntegrityMonitor monitor = integrityMonitor(audit, metrics, clock);
            store = Stores.open(s.store());
            Tresor tresor = Tresor.open(store, keys, monitor, clock);
            CertificateAuthority ca = s.caCert() == null ? null : CertificateAuthority.load(s.caCert(), s.caKey(), clock);

            Server api = new Server(apiThreadPool());
            api.setErrorHandler(new JsonErrorHandler());
            HttpConfiguration https = new HttpConfiguration();
            https.setSendServerVersion(false);
            https.setSendDateHeader(false);
            https.setRequestHeaderSize(16 * 1024);
            SecureRequestCustomizer secure = new SecureRequestCustomizer(false, false, -1, false);
            https.addCustomizer(secure);
            SslContextFactory.Server tls = new SslContextFactory.Server();
            SSLContext context = TrustMaterial.serverContext(s.tlsCert(), s.tlsKey(), s.clientCa());
            tls.setSslContext(context);
            tls.setNeedClientAuth(true);
            tls.setIncludeProtocols(s.tlsProtocols().toArray(String[]::new));
            tls.setRenegotiationAllowed(false);
            ServerConnector apiConnector = new ServerConnector(api, new SslConnectionFactory(tls, "http/1.1"),
                    new HttpConnectionFactory(https));
            apiConnector.setHost(s.apiAddress().getHostString());
            apiConnector.setPort(s.apiAddress().getPort());
            apiConnector.setIdleTimeout(s.idleTimeout().toMillis());
            apiConnector.addBean(handshakeAuditor(audit, metrics, clock));
            api.addConnector(apiConnector);
            api.setHandler(new ApiHandler(tresor, audit, s.auditFiles().getFirst(), ca, s.caDefaultTtl(), s.caMaxTtl(),
                    metrics, s.maxBodyBytes(), clock));

            QueuedThreadPool mgmtPool = new QueuedThreadPool(8, 2);
            mgmtPool.setName("tresor-mgmt");
            Server management = new Server(mgmtPool);
            HttpConfiguration plain = new HttpConfiguration();
            plain.setSendServerVersion(false);
            ServerConnector managementConnector = new ServerConnector(management, new HttpConnectionFactory(plain));
            managementConnector.setHost(s.managementAddress().getHostString());
            managementConnector.setPort(s.managementAddress().getPort());
            management.addConnector(managementConnector);
            Store readyStore = store;
            TresorServer[] self = new TresorServer[1];
            management.setHandler(new ManagementHandler(metrics, () -> self[0] != null && !self[0].closing && readyStore.ping()));

            api.start();
            management.start();
            self[0] = new TresorServer(api, management, apiConnector, managementConnector, store, audit, sinks, tresor, metrics);
            recordQuietly(audit, clock, "server.start", "api=" + apiConnector.getLocalPort()
                    + " management=" + managementConnector.getLocalPort() + " store=" + store.kind());
            LOG.info("Tresor API listening on https://{}:{} (mTLS), management on http://{}:{}",
                    s.apiAddress().getHostString(), apiConnector.getLocalPort(),
                    s.managementAddress().getHostString(), managementConnector.getLocalPort());
            return self[0];
        } catch (Exception e) {
            if (store != null) {
                store.close();
            }
            for (AuditSink sink : sinks) {
                try {
                    sink.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("server failed to start: " + e.getMessage(), e);
        }
    }

    private static QueuedThreadPool apiThreadPool() {
        QueuedThreadPool pool = new QueuedThreadPool(64, 4);
        pool.setName("tresor-api");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        return pool;
    }

    /** Integrity violations are counted, logged for operators and written to the audit log. */
    private static IntegrityMonitor integrityMonitor(AuditLog audit, TresorMetrics metrics, Clock clock) {
        return (subject, problem) -> {
            metrics.integrityViolation();
            LOG.warn("INTEGRITY VIOLATION: {}: {}", subject, problem);
            recordQuietly(audit, clock, "integrity.violation", subject + ": " + problem);
        };
    }

    /** Refused TLS handshakes (no, foreign, expired certificate; old protocol) are audited too. */
    private static SslHandshakeListener handshakeAuditor(AuditLog audit, TresorMetrics metrics, Clock clock) {
        return new SslHandshakeListener() {
            @Override
            public void handshakeFailed(Event event, Throwable failure) {
                metrics.tlsHandshakeFailure();
                String source = event.getEndPoint().getRemoteSocketAddress() instanceof InetSocketAddress a
                        ? a.getAddress().getHostAddress() : String.valueOf(event.getEndPoint().getRemoteSocketAddress());
                try {
                    audit.record(new AuditEvent(clock.instant(), null, null, "tls.handshake", null, null, "denied", 0,
                            source, failure.getClass().getSimpleName() + ": " + String.valueOf(failure.getMessage())));
                } catch (AuditUnavailableException e) {
                    metrics.auditFailure();
                }
            }
        };
    }

    private static void recordQuietly(AuditLog audit, Clock clock, String action, String detail) {
        try {
            audit.record(new AuditEvent(clock.instant(), null, null, action, null, null, "info", 0, null, detail));
        } catch (AuditUnavailableException e) {
            LOG.error("could not audit {}: {}", action, e.getMessage());
        }
    }

    public int apiPort() {
        return apiConnector.getLocalPort();
    }

    public int managementPort() {
        return managementConnector.getLocalPort();
    }

    public Tresor tresor() {
        return tresor;
    }

    public TresorMetrics metrics() {
        return metrics;
    }

    public void join() throws InterruptedException {
        api.join();
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            api.stop();
        } catch (Exception e) {
            LOG.warn("stopping the API server: {}", e.getMessage());
        }
        try {
            management.stop();
        } catch (Exception e) {
            LOG.warn("stopping the management server: {}", e.getMessage());
        }
        recordQuietly(audit, Clock.systemUTC(), "server.stop", null);
        for (AuditSink sink : sinks) {
            try {
                sink.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("closing audit sink {}: {}", sink.name(), e.getMessage());
            } catch (Exception e) {
                LOG.warn("closing audit sink {}: {}", sink.name(), e.getMessage());
            }
        }
        audit.close();
        store.close();
    }

    /** Jetty's own error responses (malformed HTTP, header too large) as JSON, never a stack trace. */
    static final class JsonErrorHandler extends ErrorHandler {
        JsonErrorHandler() {
            setShowStacks(false);
            setShowMessageInTitle(false);
        }

        @Override
        protected void generateResponse(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                        int code, String message, Throwable cause, org.eclipse.jetty.util.Callback callback) {
            String text = "{\"error\":\"" + (code == 431 ? "request headers too large" : "bad request (HTTP " + code + ")")
                    + "\",\"requestId\":null}";
            response.getHeaders().put("Content-Type", "application/json");
            response.write(true, java.nio.ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)), callback);
        }
    }
}
