package dev.tresor.server;

import dev.tresor.Tresor;
import dev.tresor.api.ApiHandler;
import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditCheckpointer;
import dev.tresor.audit.AuditSink;
import dev.tresor.audit.AuditStart;
import dev.tresor.audit.BestEffortSink;
import dev.tresor.audit.JsonLinesAuditSink;
import dev.tresor.audit.SyslogAuditSink;
import dev.tresor.audit.AuditUnavailableException;
import dev.tresor.audit.FileAuditSink;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.TrustMaterial;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import java.io.IOException;
import java.time.Clock;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.UriCompliance;
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

    /**
     * Lets "ambiguous" paths ({@code //}, {@code %2e%2e}, {@code %2f}, backslashes, {@code ;}) through
     * to ApiHandler, which refuses any '%' and checks every name against the name grammar, so they
     * get a 400 that says what is wrong; broken escapes and control characters stay protocol errors.
     */
    static final UriCompliance API_URI_COMPLIANCE = new UriCompliance("TRESOR_API", java.util.EnumSet.of(
            UriCompliance.Violation.AMBIGUOUS_PATH_SEGMENT,
            UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT,
            UriCompliance.Violation.AMBIGUOUS_PATH_SEPARATOR,
            UriCompliance.Violation.AMBIGUOUS_PATH_PARAMETER,
            UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING,
            UriCompliance.Violation.SUSPICIOUS_PATH_CHARACTERS,
            UriCompliance.Violation.ILLEGAL_PATH_CHARACTERS));

    private final Server api;
    private final Server management;
    private final ServerConnector apiConnector;
    private final ServerConnector managementConnector;
    private final Server join;
    private final ServerConnector joinConnector;
    private final Store store;
    private final AuditLog audit;
    private final List<AuditSink> sinks;
    private final Tresor tresor;
    private final TresorMetrics metrics;
    private final RefusedHandshakes refusedHandshakes;
    private final AuditCheckpointer checkpointer;
    private final dev.tresor.feed.ChangeFeed feed;
    /** Copies this node's audit records into the store (several nodes); null on a single node. */
    private final dev.tresor.audit.AuditTableCopy tableCopy;
    /** This node's id in audit records; null on a single node without node.id. */
    private final String nodeId;
    private volatile boolean closing;

    /** How long a stopping server lets requests in flight finish. */
    public static final java.time.Duration DRAIN_TIMEOUT = java.time.Duration.ofSeconds(15);

    private TresorServer(Server api, Server management, ServerConnector apiConnector, ServerConnector managementConnector,
                         Store store, AuditLog audit, List<AuditSink> sinks, Tresor tresor, TresorMetrics metrics,
                         RefusedHandshakes refusedHandshakes, AuditCheckpointer checkpointer, Server join,
                         ServerConnector joinConnector, dev.tresor.feed.ChangeFeed feed,
                         dev.tresor.audit.AuditTableCopy tableCopy, String nodeId) {
        this.tableCopy = tableCopy;
        this.nodeId = nodeId;
        this.feed = feed;
        this.checkpointer = checkpointer;
        this.join = join;
        this.joinConnector = joinConnector;
        this.api = api;
        this.management = management;
        this.apiConnector = apiConnector;
        this.managementConnector = managementConnector;
        this.store = store;
        this.audit = audit;
        this.sinks = sinks;
        this.tresor = tresor;
        this.metrics = metrics;
        this.refusedHandshakes = refusedHandshakes;
    }

    public static TresorServer start(ServerSettings settings) {
        return start(settings, Clock.systemUTC());
    }

    /**
     * Starts the server. A problem with what the config points at (a key file with loose
     * permissions, a certificate that does not parse, a database that refuses the login, a port
     * in use) is refused with a {@link ConfigException} naming the config field to fix.
     */
    public static TresorServer start(ServerSettings s, Clock clock) {
        return start(s, clock, System.getenv());
    }

    /**
     * As {@link #start(ServerSettings, Clock)}, with the key provider's secrets (HSM PIN variable,
     * AWS credentials) read from {@code environment} instead of the process environment: for a
     * test that runs several servers with different credentials in one JVM.
     */
    public static TresorServer start(ServerSettings given, Clock clock, Map<String, String> environment) {
        // A key migration cut short left <config>.migrate-next: finish or undo it before any KEK is opened.
        ServerSettings s = configured("keyProvider", () -> KekRotation.finishInterruptedMigration(given));
        KeyProvider configuredKeys = configured(s.keyFile() == null ? "keyProvider" : "keyProvider.path",
                () -> s.openKeyProvider(environment));
        TresorMetrics metrics = new TresorMetrics();
        List<AuditSink> sinks = new ArrayList<>();
        List<BestEffortSink> copies = new ArrayList<>();
        Store store = null;
        Server api = null;
        Server management = null;
        Server join = null;
        RefusedHandshakes refusedHandshakes = null;
        AuditCheckpointer checkpointer = null;
        dev.tresor.feed.ChangeFeed feed = null;
        dev.tresor.audit.AuditTableCopy tableCopy = null;
        try {
            // The store first: each log is opened against what the store knows of it (its
            // checkpoint, whether the store holds data, its epochs), so either catches the other
            // having been cut or put back from an older copy.
            store = configured("store", () -> Stores.open(s.store()));
            Store opened = store;
            // A KEK rotation interrupted after its commit left the new key file beside the old one: finish it first.
            KeyProvider keys = configured("keyProvider.path", () -> KekRotation.finishInterrupted(s, configuredKeys, opened,
                    environment));
            List<FileAuditSink> fileLogs = new ArrayList<>();
            java.util.Set<String> names = new java.util.HashSet<>();
            boolean severalNodes = "postgresql".equals(opened.kind());
            NodeId node = configured("node.id", () -> NodeId.resolve(s.nodeId(), s.auditFiles().isEmpty() ? null
                    : s.auditFiles().getFirst(), severalNodes));
            String nodeId = node == null ? null : node.value();
            for (int i = 0; i < s.auditFiles().size(); i++) {
                var file = s.auditFiles().get(i);
                String field = "audit.sinks[" + i + "].path";
                if (!names.add(file.getFileName().toString())) {
                    throw new ConfigException(field + ": another audit log has the file name " + file.getFileName()
                            + "; the store keeps one checkpoint per log name, so give each log its own name");
                }
                AuditStart start = configured("store", () -> auditStart(opened, file, s.acceptRollback()));
                FileAuditSink sink = configured(field, () -> new FileAuditSink(file, keys, s.auditFsyncInterval(), clock, start, s.auditSegments(),
                        nodeId));
                sinks.add(sink);
                fileLogs.add(sink);
            }
            List<AuditSink> requiredRemote = new ArrayList<>();
            for (int i = 0; i < s.auditCopies().size(); i++) {
                ServerSettings.AuditCopy c = s.auditCopies().get(i);
                if (c.required()) {
                    requiredRemote.add(configured("audit.sinks (" + c.kind() + ")", () -> remoteSink(c)));
                } else {
                    copies.add(configured("audit.sinks (" + c.kind() + ")", () -> copy(c, metrics)));
                }
            }
            AuditLog audit = new AuditLog(sinks, requiredRemote, copies, s.auditWriteTimeout(),
                    AuditLog.DEFAULT_MAX_PENDING_PER_SINK);
            IntegrityMonitor monitor = integrityMonitor(audit, metrics, clock);
            // A store from before the keyring is converted during this open (one transaction); say how far it got.
            java.util.concurrent.atomic.AtomicLong rewrapped = new java.util.concurrent.atomic.AtomicLong();
            Tresor tresor = configured(s.keyFile() == null ? "keyProvider" : "keyProvider.path",
                    () -> Tresor.open(opened, keys, monitor, clock, done -> {
                        rewrapped.set(done);
                        if (done % 10_000 == 0) {
                            LOG.info("converting the store to a keyring: {} data keys re-wrapped so far", done);
                        }
                    }));
            if (rewrapped.get() > 0) {
                LOG.info("store converted to a keyring: {} data keys re-wrapped under keyring key {} (recorded in "
                        + "keyring_migrations)", rewrapped.get(), tresor.keyring().keyId());
            }
            if (severalNodes && nodeId != null && !fileLogs.isEmpty()) {
                // Every node's records in the shared store, so GET /v1/audit on any node shows all nodes.
                // Sealed with the row MAC key, hence made once the store is open; what was written
                // before this (the start's own records) the copy takes from the file.
                FileAuditSink first = fileLogs.getFirst();
                tableCopy = tresor.auditTableCopy(nodeId, first.file(), dev.tresor.audit.AuditTableCopy.Settings.defaults());
                first.copyWrittenTo(tableCopy);
                tableCopy.start();
            }
            checkpointer = new AuditCheckpointer(fileLogs, tresor::storeEpochs,
                    (log, record) -> opened.write(w -> {
                        w.putAuditCheckpoint(log, record);
                        return null;
                    }),
                    AuditCheckpointer.DEFAULT_INTERVAL, AuditCheckpointer.DEFAULT_RECORDS_BETWEEN, clock);
            checkpointer.start();
            feed = tresor.changeFeed(new dev.tresor.feed.ChangeFeed.Settings(s.watch().retention(),
                    java.time.Duration.ofSeconds(1), java.time.Duration.ofMinutes(1)));
            feed.start();
            metrics.watchersWaiting(feed::waiting);
            CertificateAuthority.Opened openedCa = s.caCert() == null ? null
                    : configured("ca", () -> CertificateAuthority.open(s.caCert(), s.caKey(), keys, clock));
            CertificateAuthority ca = openedCa == null ? null : openedCa.ca();
            if (openedCa != null && openedCa.sealedNow()) {
                LOG.info("ca.key was stored in clear: sealed it in place under KEK {} ({})", keys.keyId(), s.caKey());
            }
            if (ca != null && !ca.trustDomain().equals(s.trustDomain())) {
                throw new ConfigException("ca.cert: this CA issues identities in trust domain '" + ca.trustDomain()
                        + "', but trustDomain is '" + s.trustDomain() + "'; make them the same");
            }
            metrics.storePool(opened::poolUse);
            metrics.changeListener(opened::changeListener);
            metrics.issuedCertificates(now -> opened.read(r -> r.issuedCertExpiry(now, now + java.time.Duration.ofDays(1).toMillis())),
                    opened::changeToken);

            List<dev.tresor.api.CaPublisher.Retired> retired = new ArrayList<>();
            for (int i = 0; i < s.caPrevious().size(); i++) {
                ServerSettings.RetiredCa r = s.caPrevious().get(i);
                X509Certificate old = configured("ca.previous[" + i + "].cert", () -> dev.tresor.ca.Pem.readCertificate(r.cert()));
                CertificateAuthority signer = null;
                if (ca != null && java.nio.file.Files.exists(r.keyFile()) && clock.instant().isBefore(r.trustUntil())) {
                    // A key that is there but does not open is a configuration mistake, not a reason to serve fewer CRLs silently.
                    signer = configured("ca.previous[" + i + "].cert (its key " + r.keyFile() + ")",
                            () -> CertificateAuthority.load(r.cert(), r.keyFile(), keys, clock));
                } else if (ca != null && clock.instant().isBefore(r.trustUntil())) {
                    LOG.warn("retired CA {} is trusted until {} but its key {} is gone: no CRL of that CA is served "
                                    + "(/v1/ca/crls); the active CA's CRL still lists every revocation",
                            old.getSerialNumber().toString(16), r.trustUntil(), r.keyFile());
                }
                retired.add(new dev.tresor.api.CaPublisher.Retired(old, r.trustUntil(), signer));
            }
            dev.tresor.api.CaPublisher publisher = ca == null ? null
                    : new dev.tresor.api.CaPublisher(ca, tresor.identity(), retired, clock);
            List<X509Certificate> retiredAnchors = retired.stream().map(dev.tresor.api.CaPublisher.Retired::certificate).toList();
            if (publisher != null) {
                metrics.certificateExpiry("ca", () -> publisher.ca().certificate());
            }

            api = new Server(apiThreadPool());
            api.setErrorHandler(new JsonErrorHandler(audit, metrics, clock));
            HttpConfiguration https = new HttpConfiguration();
            https.setSendServerVersion(false);
            https.setSendDateHeader(false);
            https.setRequestHeaderSize(16 * 1024);
            // Every path reaches ApiHandler, which refuses '%' escapes and checks each name against
            // the name grammar itself: a 400 that says what is wrong, with a request id and an
            // audit record, instead of Jetty's bare refusal of "ambiguous" paths.
            https.setUriCompliance(API_URI_COMPLIANCE);
            SecureRequestCustomizer secure = new SecureRequestCustomizer(false, false, -1, false);
            https.addCustomizer(secure);
            SslContextFactory.Server tls = new SslContextFactory.Server();
            SSLContext context = configured("tls", () -> TrustMaterial.serverContext(s.tlsCert(), s.tlsKey(), s.clientCa(),
                    retiredAnchors));
            tls.setSslContext(context);
            tls.setNeedClientAuth(true);
            tls.setIncludeProtocols(s.tlsProtocols().toArray(String[]::new));
            tls.setRenegotiationAllowed(false);
            // AEAD suites with forward secrecy only: TLS 1.3's own, and ECDHE with GCM or
            // ChaCha20-Poly1305 for TLS 1.2 (the JDK would also offer CBC suites there).
            tls.setIncludeCipherSuites("TLS_AES_.*", "TLS_CHACHA20_.*",
                    "TLS_ECDHE_(ECDSA|RSA)_WITH_AES_(128|256)_GCM_SHA(256|384)",
                    "TLS_ECDHE_(ECDSA|RSA)_WITH_CHACHA20_POLY1305_SHA256");
            ServerConnector apiConnector = new ServerConnector(api, new SslConnectionFactory(tls, "http/1.1"),
                    new HttpConnectionFactory(https));
            apiConnector.setHost(s.apiAddress().getHostString());
            apiConnector.setPort(s.apiAddress().getPort());
            apiConnector.setIdleTimeout(s.idleTimeout().toMillis());
            // Refused TLS handshakes (no, foreign, expired certificate; old protocol) are audited too, rate-limited.
            refusedHandshakes = new RefusedHandshakes(audit, metrics, clock, RefusedHandshakes.Limits.DEFAULT);
            apiConnector.addBean(refusedHandshakes);
            api.addConnector(apiConnector);
            // A renewed tls.cert/tls.key is served to new connections within seconds, no restart.
            TlsReloader tlsReloader = new TlsReloader(tls, s.tlsCert(), s.tlsKey(), s.clientCa(),
                    () -> publisher == null ? retiredAnchors
                            : publisher.retired().stream().map(dev.tresor.api.CaPublisher.Retired::certificate).toList(),
                    metrics);
            api.addBean(tlsReloader);
            KeyringRotationJob keyringRotation = new KeyringRotationJob(tresor, clock, dev.tresor.keys.KeyringRotation.DEFAULT_BATCH, KeyringRotationJob.PAUSE);
            api.addBean(keyringRotation);
            // Beyond this many open connections the connector stops accepting (the kernel backlog
            // queues the rest) instead of running out of file descriptors.
            api.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(s.maxConnections(), apiConnector));
            // Draining on stop (SIGTERM): the connector stops accepting, requests in flight finish
            // (up to DRAIN_TIMEOUT), answers carry Connection: close, then the server stops.
            api.setHandler(new org.eclipse.jetty.server.handler.GracefulHandler(new ApiHandler(tresor, audit,
                    tresor.auditReader(s.auditFiles().getFirst(), nodeId, tableCopy != null), publisher, s.caDefaultTtl(), s.caMaxTtl(),
                    metrics, s.maxBodyBytes(), clock, () -> auditWritable(sinks), feed, s.watch().maxWait(),
                    new KeyOperations(new KekRotation(s, tresor, environment), new CaRollover(s, tresor, publisher, tlsReloader, clock),
                            keyringRotation))));
            api.setStopTimeout(DRAIN_TIMEOUT.toMillis());

            ServerConnector joinConnector = null;
            if (s.joinAddress() != null) {
                // The join port is its own Jetty server with one handler that knows one route
                // (POST /v1/join): a peer without a client certificate reaches nothing else, by
                // construction, and the API connector keeps needClientAuth at the handshake.
                join = new Server(joinThreadPool());
                HttpConfiguration joinHttps = new HttpConfiguration();
                joinHttps.setSendServerVersion(false);
                joinHttps.setSendDateHeader(false);
                joinHttps.setRequestHeaderSize(8 * 1024);
                joinHttps.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
                SslContextFactory.Server joinTls = new SslContextFactory.Server();
                joinTls.setSslContext(configured("tls", () -> TrustMaterial.serverContextWithoutClientAuth(s.tlsCert(),
                        s.tlsKey(), s.clientCa())));
                joinTls.setNeedClientAuth(false);
                joinTls.setWantClientAuth(false);
                joinTls.setIncludeProtocols(s.tlsProtocols().toArray(String[]::new));
                joinTls.setRenegotiationAllowed(false);
                joinTls.setIncludeCipherSuites("TLS_AES_.*", "TLS_CHACHA20_.*",
                        "TLS_ECDHE_(ECDSA|RSA)_WITH_AES_(128|256)_GCM_SHA(256|384)",
                        "TLS_ECDHE_(ECDSA|RSA)_WITH_CHACHA20_POLY1305_SHA256");
                joinConnector = new ServerConnector(join, new SslConnectionFactory(joinTls, "http/1.1"),
                        new HttpConnectionFactory(joinHttps));
                joinConnector.setHost(s.joinAddress().getHostString());
                joinConnector.setPort(s.joinAddress().getPort());
                joinConnector.setIdleTimeout(java.time.Duration.ofSeconds(10).toMillis());
                join.addConnector(joinConnector);
                join.addBean(new org.eclipse.jetty.server.NetworkConnectionLimit(256, joinConnector));
                join.setErrorHandler(new JsonErrorHandler(audit, metrics, clock));
                join.setHandler(new dev.tresor.api.JoinHandler(tresor, publisher, s.caDefaultTtl(), audit, metrics, clock,
                        new dev.tresor.api.JoinRateLimiter(new dev.tresor.api.JoinRateLimiter.Limits(s.joinAttemptsPerMinute(),
                                s.joinAttemptsPerMinute(), 10_000), clock)));
            }

            QueuedThreadPool mgmtPool = new QueuedThreadPool(8, 2);
            mgmtPool.setName("tresor-mgmt");
            management = new Server(mgmtPool);
            HttpConfiguration plain = new HttpConfiguration();
            plain.setSendServerVersion(false);
            ServerConnector managementConnector = new ServerConnector(management, new HttpConnectionFactory(plain));
            managementConnector.setHost(s.managementAddress().getHostString());
            managementConnector.setPort(s.managementAddress().getPort());
            management.addConnector(managementConnector);
            Store readyStore = store;
            TresorServer[] self = new TresorServer[1];
            management.setHandler(new ManagementHandler(metrics, () -> self[0] != null && !self[0].closing
                    && auditWritable(sinks) && readyStore.ping(),
                    publisher));

            Server startingApi = api;
            Server startingManagement = management;
            configured("listen.api", () -> {
                startingApi.start();
                return null;
            });
            configured("listen.management", () -> {
                startingManagement.start();
                return null;
            });
            if (join != null) {
                Server startingJoin = join;
                configured("listen.join", () -> {
                    startingJoin.start();
                    return null;
                });
            }
            self[0] = new TresorServer(api, management, apiConnector, managementConnector, store, audit, sinks, tresor, metrics,
                    refusedHandshakes, checkpointer, join, joinConnector, feed, tableCopy, nodeId);
            recordQuietly(audit, clock, "server.start", "api=" + apiConnector.getLocalPort()
                    + (joinConnector == null ? "" : " join=" + joinConnector.getLocalPort())
                    + " management=" + managementConnector.getLocalPort() + " store=" + store.kind());
            if (ca != null) {
                // The CA in use and any retired CA still trusted: after tresor ca rotate (run with the
                // server stopped) this first start is where the rollover enters the audit log.
                StringBuilder trust = new StringBuilder("active=" + ca.certificate().getSerialNumber().toString(16));
                for (dev.tresor.api.CaPublisher.Retired r : retired) {
                    trust.append(" retired=").append(r.certificate().getSerialNumber().toString(16))
                            .append(" trustUntil=").append(r.trustUntil());
                }
                recordQuietly(audit, clock, retired.isEmpty() ? "ca.trust" : "ca.rollover", trust.toString());
            }
            LOG.info("Tresor API listening on https://{}:{} (mTLS), management on http://{}:{}",
                    s.apiAddress().getHostString(), apiConnector.getLocalPort(),
                    s.managementAddress().getHostString(), managementConnector.getLocalPort());
            return self[0];
        } catch (RuntimeException e) {
            for (Server started : new Server[] {api, management, join}) {
                if (started != null) {
                    try {
                        started.stop();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            if (refusedHandshakes != null) {
                refusedHandshakes.close();
            }
            if (feed != null) {
                feed.close();
            }
            if (checkpointer != null) {
                checkpointer.close();
            }
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
            if (tableCopy != null) {
                tableCopy.close(java.time.Duration.ZERO);
            }
            copies.forEach(copy -> copy.close(java.time.Duration.ZERO));
            throw e;
        }
    }

    /** A best-effort copy of the audit records (syslog over TLS, or JSON lines on standard output). */
    private static BestEffortSink copy(ServerSettings.AuditCopy c, TresorMetrics metrics) {
        AuditSink sink = remoteSink(c);
        BestEffortSink copy = new BestEffortSink(sink, c.bufferRecords(), java.time.Duration.ofSeconds(1),
                metrics.auditCopyTimer(sink.name()));
        metrics.auditCopy(copy);
        return copy;
    }

    private static AuditSink remoteSink(ServerSettings.AuditCopy c) {
        if (c.kind().equals("stdout")) {
            return new JsonLinesAuditSink(System.out, "stdout");
        }
        javax.net.ssl.SSLContext tls = c.cert() == null ? TrustMaterial.clientContext(c.ca())
                : TrustMaterial.clientContext(c.cert(), c.key(), c.ca());
        return new SyslogAuditSink(c.host(), c.port(), tls, c.appName(), hostname(), java.time.Duration.ofSeconds(5));
    }

    private static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "-";
        }
    }

    /**
     * What the store knows of the log {@code file}. The epochs are read from the store head row
     * as stored; {@link Tresor#open} verifies that row's MAC right after (a forged head is refused there).
     */
    private static AuditStart auditStart(Store store, java.nio.file.Path file, String acceptRollback) {
        return store.read(r -> AuditStart.fromStore(r, file.getFileName().toString(), acceptRollback));
    }

    /** Ready only while some audit sink can still write: a server that must refuse every request is not ready. */
    private static boolean auditWritable(List<AuditSink> sinks) {
        return sinks.stream().anyMatch(sink -> !(sink instanceof FileAuditSink file) || file.healthy());
    }

    @FunctionalInterface
    private interface StartStep<T> {
        T run() throws Exception;
    }

    /**
     * Runs one start step; a failure becomes a ConfigException naming the config field behind it.
     * An integrity refusal is not a configuration mistake and keeps its own message.
     */
    private static <T> T configured(String field, StartStep<T> step) {
        try {
            return step.run();
        } catch (ConfigException | IntegrityViolation e) {
            throw e;
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ConfigException(field + ": " + message, e);
        }
    }

    private static QueuedThreadPool joinThreadPool() {
        QueuedThreadPool pool = new QueuedThreadPool(16, 2);
        pool.setName("tresor-join");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        return pool;
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

    /** The join port (POST /v1/join without a client certificate), or -1 if none is configured. */
    public int joinPort() {
        return joinConnector == null ? -1 : joinConnector.getLocalPort();
    }

    public Tresor tresor() {
        return tresor;
    }

    /**
     * Looks at tls.cert/tls.key now instead of at the next periodic check: true if a changed pair
     * is now served to new connections (false: unchanged, or unusable and the old pair kept).
     */
    /** How many API requests are being handled now (a stop waits for these). */
    int apiRequestsInFlight() {
        return (int) ((org.eclipse.jetty.server.handler.GracefulHandler) api.getHandler()).getCurrentRequestCount();
    }

    public boolean reloadTls() {
        return api.getBean(TlsReloader.class).check();
    }

    /** The certificate new API connections get. */
    public java.security.cert.X509Certificate servingCertificate() {
        return api.getBean(TlsReloader.class).serving();
    }

    /** The store's notification connection (PostgreSQL), as {@code /metrics} reports it. */
    public java.util.Optional<dev.tresor.store.ChangeListenerStatus> changeListener() {
        return store.changeListener();
    }

    /** This node's id in its audit records (null on a single node without {@code node.id}). */
    public String nodeId() {
        return nodeId;
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
        // Waiting watchers are answered first (with what they have), so stopping the API does not wait for them.
        feed.close();
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
        if (join != null) {
            try {
                join.stop();
            } catch (Exception e) {
                LOG.warn("stopping the join server: {}", e.getMessage());
            }
        }
        refusedHandshakes.close();
        recordQuietly(audit, Clock.systemUTC(), "server.stop", null);
        // The last checkpoint before the close records: a clean stop leaves nothing unanchored.
        checkpointer.close();
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
        if (tableCopy != null) {
            tableCopy.close(java.time.Duration.ofSeconds(5)); // the close records too
        }
        store.close();
    }

    /**
     * Jetty's own error responses (malformed HTTP, headers too large) for every method: JSON with
     * a request id, audited like any other answered request, never a stack trace.
     */
    static final class JsonErrorHandler extends ErrorHandler {
        private final AuditLog audit;
        private final TresorMetrics metrics;
        private final Clock clock;
        private final java.security.SecureRandom random = new java.security.SecureRandom();

        JsonErrorHandler(AuditLog audit, TresorMetrics metrics, Clock clock) {
            this.audit = audit;
            this.metrics = metrics;
            this.clock = clock;
            setShowStacks(false);
            setShowMessageInTitle(false);
        }

        /** Jetty's own reason ("Bad URI", "Invalid Content-Length Value"), if it is short plain text. */
        private static String reason(String message) {
            return message != null && message.matches("[A-Za-z0-9 .,:=_-]{1,80}") ? ": " + message : "";
        }

        @Override
        public boolean errorPageForMethod(String method) {
            return true;
        }

        @Override
        protected void generateResponse(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                        int code, String message, Throwable cause, org.eclipse.jetty.util.Callback callback) {
            byte[] id = new byte[8];
            random.nextBytes(id);
            String requestId = java.util.HexFormat.of().formatHex(id);
            String text = switch (code) {
                case 431 -> "request headers too large";
                case 414 -> "request URI too long";
                case 413 -> "request body too large";
                default -> "malformed HTTP request (HTTP " + code + ")" + reason(message);
            };
            try {
                audit.record(new AuditEvent(clock.instant(), requestId, null, "http.reject", null, null, "rejected", code,
                        org.eclipse.jetty.server.Request.getRemoteAddr(request), text));
            } catch (AuditUnavailableException e) {
                metrics.auditFailure();
            }
            metrics.request("http.reject", code, 0);
            String body = "{\"error\":\"" + text + "\",\"requestId\":\"" + requestId + "\"}";
            response.getHeaders().put("Content-Type", "application/json");
            response.getHeaders().put("X-Request-Id", requestId);
            response.write(true, java.nio.ByteBuffer.wrap(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)), callback);
        }
    }
}
