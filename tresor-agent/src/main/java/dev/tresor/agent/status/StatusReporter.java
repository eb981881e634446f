package dev.tresor.agent.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tresor.agent.config.AgentConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link AgentStatus}: as a JSON file replaced atomically (for a probe that runs
 * {@code cat}), and on a loopback HTTP port: {@code /healthz} (200 when in sync, 503 otherwise,
 * like the server's own probes) and {@code /status} (the JSON). The JDK's HTTP server is enough
 * for two read-only pages.
 */
public final class StatusReporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusReporter.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final HttpServer server;
    private final AtomicReference<AgentStatus> current = new AtomicReference<>();

    public StatusReporter(AgentConfig.StatusSpec spec) {
        this.file = spec.file();
        if (spec.listens()) {
            try {
                server = HttpServer.create(new InetSocketAddress(spec.host(), spec.port()), 8);
            } catch (IOException e) {
                throw new UncheckedIOException("status.listen: cannot listen on " + spec.host() + ":" + spec.port()
                        + ": " + e.getMessage(), e);
            }
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/healthz", exchange -> {
                AgentStatus s = current.get();
                boolean ok = s != null && s.healthy();
                reply(exchange, ok ? 200 : 503, "text/plain", (s == null ? "starting" : s.state()) + "\n");
            });
            server.createContext("/status", exchange -> reply(exchange, 200, "application/json", json(current.get())));
            server.start();
        } else {
            server = null;
        }
    }

    /** The HTTP port (when listening; -1 otherwise): port 0 in the config picks a free one. */
    public int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    public void publish(AgentStatus status) {
        AgentStatus before = current.getAndSet(status);
        if (file != null && !status.equals(before)) {
            try {
                Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
                Files.writeString(temp, json(status));
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                LOG.warn("cannot write the status file {}: {}", file, e.getMessage());
            }
        }
    }

    private static String json(AgentStatus status) {
        if (status == null) {
            return "{\"state\":\"starting\"}\n";
        }
        ObjectNode node = JSON.valueToTree(status);
        return node.toPrettyString() + "\n";
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
    }
}
