package dev.tresor.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.Inet6Address;
import java.net.URI;
import java.security.SecureRandom;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * {@code tresor ui}: the running console. {@link #start} binds (loopback unless explicitly allowed),
 * makes the one-time login token, and serves until {@link #close}. The caller prints
 * {@link #loginUrl()} once, on the terminal; nothing here logs it.
 */
public final class TresorConsole implements AutoCloseable {

    private final Server jetty;
    private final TresorApi api;
    private final Sessions sessions;
    private final URI address;
    private final boolean loopback;
    private final CountDownLatch closed = new CountDownLatch(1);

    private TresorConsole(Server jetty, TresorApi api, Sessions sessions, URI address, boolean loopback) {
        this.jetty = jetty;
        this.api = api;
        this.sessions = sessions;
        this.address = address;
        this.loopback = loopback;
    }

    /** Binds and starts; a refused address (non-loopback without allowRemote) or a busy port is a {@link ConsoleException}. */
    public static TresorConsole start(ConsoleSettings settings) {
        ListenAddress listen = ListenAddress.resolve(settings.listenHost(), settings.allowRemote());
        ObjectMapper json = new ObjectMapper();
        TresorApi api = new TresorApi(settings, json);
        Sessions sessions = new Sessions(new SecureRandom(), settings.clock());
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("tresor-ui");
        threads.setVirtualThreadsExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        Server jetty = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        ServerConnector connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
        connector.setHost(listen.address().getHostAddress());
        connector.setPort(settings.port());
        jetty.addConnector(connector);
        String hostPart = listen.address() instanceof Inet6Address ? "[" + listen.address().getHostAddress() + "]"
                : listen.address().getHostAddress();
        Set<String> hostNames = new LinkedHashSet<>();
        hostNames.add(hostPart);
        if (listen.loopback()) {
            hostNames.addAll(Set.of("127.0.0.1", "localhost", "[::1]"));
        } else {
            hostNames.add(settings.listenHost().toLowerCase(java.util.Locale.ROOT));
        }
        ConsoleHandler handler = new ConsoleHandler(sessions, new Pages(), new StaticAssets(),
                new SecretsView(api, settings.clock()),
                new AuditView(api, settings.auditLog(), settings.auditKey(), json),
                new HealthView(api, settings.management()), new AccessView(api, json),
                new RotationView(api, json), settings.rotationSlots(), hostNames);
        jetty.setHandler(handler);
        jetty.setErrorHandler(new ConsoleErrorHandler());
        try {
            jetty.start();
        } catch (Exception e) {
            api.close();
            stopQuietly(jetty);
            throw new ConsoleException("cannot listen on " + settings.listenHost() + ":" + settings.port() + ": "
                    + e.getMessage(), e);
        }
        URI address = URI.create("http://" + hostPart + ":" + connector.getLocalPort());
        return new TresorConsole(jetty, api, sessions, address, listen.loopback());
    }

    /**
     * Refuses a non-loopback address unless {@code allowRemote}; for callers that want to say so before
     * doing anything else (the CLI checks it before it loads the identity).
     */
    public static void checkListenAddress(String host, boolean allowRemote) {
        ListenAddress.resolve(host, allowRemote);
    }

    /** Where the console answers, e.g. http://127.0.0.1:8750. */
    public URI address() {
        return address;
    }

    /** False when the operator allowed a non-loopback bind: the caller prints a warning. */
    public boolean loopback() {
        return loopback;
    }

    /** The one-time login URL; print it once and nowhere else. */
    public URI loginUrl() {
        return URI.create(address + "/login?token=" + sessions.loginToken());
    }

    /** Blocks until {@link #close} (the CLI's shutdown hook calls it on Ctrl-C). */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        stopQuietly(jetty);
        api.close();
        closed.countDown();
    }

    private static void stopQuietly(Server jetty) {
        try {
            jetty.stop();
        } catch (Exception e) {
            // Stopping is best effort: the process is ending or the test is over.
        }
    }
}
