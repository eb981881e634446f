package dev.tresor.mount;

import dev.tresor.client.api.ApiException;
import dev.tresor.client.api.SecretSummary;
import dev.tresor.client.api.SecretsClient;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import dev.tresor.client.api.WatchPage;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * The few /v1 calls a mount makes, as the mounting client: the listing and the change feed through
 * tresor-client's shared transport, value reads on {@link ValueReader}'s raw keep-alive connections.
 * Every call is bounded by the request timeout (connect and answer), so a dead or stuck server
 * turns into an {@link ApiFailure} the filesystem answers with EIO, never a blocked kernel request.
 */
final class SecretsApi implements AutoCloseable {

    private static final String USER_AGENT = "tresor-mount";

    private final ServerAddresses servers;
    private final Duration timeout;
    private final SecretsClient secrets;
    private final ValueReader values;

    SecretsApi(MountSettings settings) {
        this.servers = settings.servers();
        this.timeout = settings.requestTimeout();
        this.values = new ValueReader(settings);
        this.secrets = new SecretsClient(new TresorHttp(servers, TlsSource.fixed(settings.tls()),
                TresorHttp.Options.defaults(USER_AGENT).withTimeouts(timeout, timeout)));
    }

    ServerAddresses servers() {
        return servers;
    }

    /** Every secret the caller may read, following {@code next} across pages; deleted and destroyed ones left out. */
    List<SecretEntry> list() throws ApiFailure {
        List<SecretSummary> listed = call("GET /v1/secrets", () -> secrets.list(null, timeout));
        return listed.stream()
                .filter(SecretSummary::live)
                .map(s -> new SecretEntry(s.name(), s.currentVersion(), s.latestVersion(), s.updatedAt()))
                .toList();
    }

    /**
     * One audited read of a version's bytes ({@code Accept: application/octet-stream}, so the value
     * is not wrapped in JSON that would need decoding into more copies), on {@link ValueReader}'s
     * raw keep-alive connections. The caller owns the array and zeroes it when done.
     */
    byte[] read(String name, int version) throws ApiFailure {
        return values.read(name, version);
    }

    /** The change feed's answer: the next cursor, whether anything concerning the caller happened, and if more is queued. */
    record WatchReply(String cursor, int changes, boolean more) {}

    /** {@code GET /v1/watch[?since=&wait=]}: a 404 means this server has no feed; 410 means re-list and start over. */
    WatchReply watch(String since, Duration wait) throws ApiFailure {
        WatchPage page = call("GET /v1/watch", () -> secrets.watch(since, wait));
        return new WatchReply(page.cursor(), page.changes().size(), page.more());
    }

    /** A call whose failures become ApiFailures: the server's status and message, or status 0 when nothing answered. */
    private <T> T call(String what, Supplier<T> action) throws ApiFailure {
        try {
            return action.get();
        } catch (ApiException e) {
            throw new ApiFailure(e.status(), what + " answered HTTP " + e.status() + ": " + e.getMessage(), e);
        } catch (TransportException e) {
            if (e.getCause() instanceof HttpTimeoutException) {
                throw new ApiFailure(0, what + ": no answer from " + e.node() + " within " + timeout.toMillis() + " ms", e);
            }
            if (e.getCause() instanceof java.io.InterruptedIOException) {
                throw new ApiFailure(0, what + ": interrupted", e);
            }
            throw new ApiFailure(0, what + ": cannot reach " + e.node() + " (" + describe(e.getCause()) + ")", e);
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        // Not a graceful close: that would wait for a long-poll in flight (up to its wait) before returning.
        secrets.http().close();
        values.close();
    }
}
