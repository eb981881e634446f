package dev.tresor.agent.feed;

import dev.tresor.agent.config.SecretRef;
import dev.tresor.client.api.ApiException;
import dev.tresor.client.api.SecretValue;
import dev.tresor.client.api.SecretsClient;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import dev.tresor.client.api.WatchPage;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;

/**
 * The two calls the agent makes, through tresor-client's shared transport (mTLS, failover
 * between the nodes given): read a secret ({@code GET /v1/secrets/NAME}) and follow the change
 * feed ({@code GET /v1/watch}). Failures are sorted into what the agent must do about them
 * ({@link ReadResult}, {@link WatchResult}), so the caller never has to tell a revoked secret from
 * a server that is down by parsing messages. New connections present the identity's current
 * certificate, so a renewal needs no restart.
 */
public final class TresorFeedClient implements AutoCloseable {

    private final ServerAddresses servers;
    private final SecretsClient secrets;

    public TresorFeedClient(ServerAddresses servers, Identity identity, Duration requestTimeout) {
        this.servers = servers;
        this.secrets = new SecretsClient(new TresorHttp(servers, identity,
                TresorHttp.Options.defaults("tresor-agent").withTimeouts(requestTimeout, requestTimeout)));
    }

    /** Reads {@code ref} (one audited read). */
    public ReadResult read(SecretRef ref) {
        try {
            SecretValue value = ref.version() != null ? secrets.read(ref.name(), ref.version())
                    : ref.label() != null ? secrets.read(ref.name(), ref.label())
                    : secrets.read(ref.name(), "current");
            return new ReadResult.Value(value.value(), value.version());
        } catch (ApiException e) {
            String message = "HTTP " + e.status() + ": " + e.getMessage();
            if (e.status() == 403 || e.status() == 404 || e.status() == 410) {
                return new ReadResult.Gone(e.status(), message);
            }
            return new ReadResult.Unavailable(message);
        } catch (TransportException e) {
            return new ReadResult.Unavailable(describe(e));
        }
    }

    /** {@code GET /v1/watch} (no cursor: where to start) or {@code ?since=CURSOR&wait=W}. */
    public WatchResult watch(String since, Duration wait) {
        try {
            WatchPage page = secrets.watch(since, wait);
            List<Change> changes = page.changes().stream()
                    .map(c -> new Change(c.seq(), c.kind(), c.secret(), c.version(), c.label()))
                    .toList();
            return new WatchResult.Changes(page.cursor(), changes, page.more());
        } catch (ApiException e) {
            String message = "HTTP " + e.status() + ": " + e.getMessage();
            return switch (e.status()) {
                case 410 -> new WatchResult.Reset(e.getMessage());
                case 404, 405 -> new WatchResult.NoFeed(message);
                default -> new WatchResult.Unavailable(e.status() == 200 ? e.getMessage() : message);
            };
        } catch (TransportException e) {
            return new WatchResult.Unavailable(describe(e));
        }
    }

    private String describe(TransportException e) {
        if (e.getCause() instanceof java.io.InterruptedIOException) {
            return "interrupted";
        }
        if (e.getCause() instanceof HttpTimeoutException) {
            return "no answer from " + e.node() + " within the timeout";
        }
        return e.getMessage() + (servers.size() > 1 ? " (and no other node of " + servers + " answered)" : "");
    }

    @Override
    public void close() {
        secrets.http().close();
    }
}
