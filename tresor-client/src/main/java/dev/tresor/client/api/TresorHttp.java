package dev.tresor.client.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one HTTP/1.1 mTLS transport every Tresor client uses (CLI, rotation job, agent, mount,
 * tunnel, console). It talks to several nodes of a cluster and fails over between them:
 * <ul>
 *   <li>a node that could not be connected to is skipped for any request (nothing was sent);</li>
 *   <li>a failure mid-request, or a 503 (draining or not ready), moves to the next node only if
 *       the request is {@linkplain ApiRequest#repeatable() repeatable}: a write without an
 *       idempotency key is never sent twice;</li>
 *   <li>between two nodes it pauses (100 ms, 200, 400, at most 800), so a node that just died is
 *       not hammered, and it starts the next request at the node that answered last, unless that
 *       answer was a 503: then at the node after it, so a caller that re-sends an unkeyed write
 *       after a 503 reaches another node.</li>
 * </ul>
 * Any other status is the caller's to interpret: the transport never retries a 4xx.
 */
public final class TresorHttp implements AutoCloseable {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** How long to wait before trying the next node; tests pass one that does not sleep. */
    @FunctionalInterface
    public interface Backoff {
        void pause(int attempt) throws InterruptedException;

        Backoff DOUBLING = attempt -> Thread.sleep(100L << Math.min(attempt - 1, 3));
    }

    /** Timeouts, the User-Agent and the pause between nodes. */
    public record Options(Duration connectTimeout, Duration requestTimeout, String userAgent, Backoff backoff) {

        public static Options defaults(String userAgent) {
            return new Options(DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, userAgent, Backoff.DOUBLING);
        }

        public Options withTimeouts(Duration connect, Duration request) {
            return new Options(connect, request, userAgent, backoff);
        }

        public Options withBackoff(Backoff value) {
            return new Options(connectTimeout, requestTimeout, userAgent, value);
        }
    }

    private final ServerAddresses servers;
    private final TlsSource tls;
    private final Options options;
    private final AtomicInteger preferred = new AtomicInteger();
    private HttpClient http;
    private Object generation;

    public TresorHttp(ServerAddresses servers, TlsSource tls, Options options) {
        this.servers = servers;
        this.tls = tls;
        this.options = options;
    }

    public ServerAddresses servers() {
        return servers;
    }

    public Options options() {
        return options;
    }

    /**
     * Sends {@code request}, failing over as described above. Returns the first node's answer
     * that is not a 503 (or the last 503 if every node answered so). Throws
     * {@link TransportException} for the last node's failure when no node answered.
     */
    public ApiReply send(ApiRequest request) {
        List<URI> nodes = servers.nodes();
        int start = preferred.get();
        TransportException lastFailure = null;
        ApiReply lastUnavailable = null;
        for (int attempt = 0; attempt < nodes.size(); attempt++) {
            if (attempt > 0) {
                pause(attempt);
            }
            int index = (start + attempt) % nodes.size();
            URI node = nodes.get(index);
            boolean last = attempt + 1 == nodes.size();
            ApiReply reply;
            try {
                reply = sendOnce(node, request);
            } catch (TransportException e) {
                if (!last && (e.neverSent() || request.repeatable())) {
                    lastFailure = e;
                    continue;
                }
                throw e;
            }
            if (reply.status() == 503 && request.repeatable() && !last) {
                lastUnavailable = reply;
                continue;
            }
            // A node that answered 503 (draining, not ready) is not where the next request starts:
            // a caller re-sending an unkeyed write would otherwise meet the same node every time.
            preferred.set(reply.status() == 503 ? (index + 1) % nodes.size() : index);
            return reply;
        }
        if (lastUnavailable != null) {
            return lastUnavailable;
        }
        throw lastFailure;
    }

    private ApiReply sendOnce(URI node, ApiRequest request) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(node + request.target()))
                .timeout(request.timeout() == null ? options.requestTimeout() : request.timeout())
                .header("Accept", request.accept())
                .header("User-Agent", options.userAgent());
        request.headers().forEach(builder::header);
        if (request.body() == null) {
            builder.method(request.method(), HttpRequest.BodyPublishers.noBody());
        } else {
            builder.header("Content-Type", request.contentType())
                    .method(request.method(), HttpRequest.BodyPublishers.ofByteArray(request.body()));
        }
        try {
            HttpResponse<byte[]> response = client().send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new ApiReply(response.statusCode(), response.body(),
                    response.headers().firstValue("Content-Type").orElse(""),
                    response.headers().firstValue("X-Request-Id").orElse(null), node);
        } catch (IOException e) {
            throw new TransportException(node, neverSent(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(node, false, new java.io.InterruptedIOException("interrupted"));
        }
    }

    /** Refused, timed out while connecting, or no such host: the request never left this machine. */
    static boolean neverSent(IOException failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException || t instanceof HttpConnectTimeoutException
                    || t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return true;
            }
        }
        return false;
    }

    private void pause(int attempt) {
        try {
            options.backoff().pause(attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(servers.first(), false, new java.io.InterruptedIOException("interrupted"));
        }
    }

    /** The HTTP client for the current credentials; rebuilt after a renewal so new connections present the new certificate. */
    private synchronized HttpClient client() {
        Object now = tls.generation();
        if (http == null || !now.equals(generation)) {
            HttpClient old = http;
            http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(tls.context())
                    .connectTimeout(options.connectTimeout())
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            generation = now;
            if (old != null) {
                old.shutdown(); // lets a request in flight on the old client (a long poll) finish
            }
        }
        return http;
    }

    /** Stops the client's selector thread; requests in flight fail. */
    @Override
    public synchronized void close() {
        if (http != null) {
            http.shutdownNow();
            http = null;
        }
    }
}
