package dev.tresor.mount;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the tree current: waits on the {@link ChangeFeed}, re-lists when it says so, publishes the
 * new tree. On a transport error or 5xx the last tree stays (files do not vanish because the
 * server blinked) and the loop retries with capped, jittered backoff; a 410 restarts from a fresh
 * cursor and listing.
 */
final class TreeRefresher implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(TreeRefresher.class);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(250);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    private final SecretsApi api;
    private final ChangeFeed feed;
    private final Consumer<Tree> publish;
    private volatile boolean running = true;

    TreeRefresher(SecretsApi api, ChangeFeed feed, Consumer<Tree> publish) {
        this.api = api;
        this.feed = feed;
        this.publish = publish;
    }

    /** The first listing, taken before mounting so a bad certificate or an unreachable server fails the command. */
    Tree initial() throws ApiFailure, InterruptedException {
        feed.start();
        return Tree.of(api.list());
    }

    @Override
    public void run() {
        Duration backoff = MIN_BACKOFF;
        boolean restart = false;
        while (running) {
            try {
                if (restart) {
                    feed.start();
                    publish.accept(Tree.of(api.list()));
                    restart = false;
                    LOG.info("tresor mount: back in touch with {}; watching by {}", api.servers(), feed.describe());
                }
                if (feed.awaitChange()) {
                    publish.accept(Tree.of(api.list()));
                }
                backoff = MIN_BACKOFF;
            } catch (InterruptedException e) {
                return;
            } catch (ApiFailure e) {
                if (!running) {
                    return;
                }
                restart = true;
                if (e.status() == 410) {
                    LOG.info("tresor mount: the change feed lost our position (410); re-listing");
                    continue;
                }
                LOG.warn("tresor mount: cannot refresh the tree ({}); keeping the last one, retrying in {} ms",
                        e.getMessage(), backoff.toMillis());
                try {
                    Thread.sleep(backoff.plusMillis(ThreadLocalRandom.current().nextLong(backoff.toMillis() / 2 + 1)));
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            } catch (RuntimeException e) {
                // A bug must not silently freeze the tree: say so and carry on.
                LOG.error("tresor mount: refresh failed unexpectedly; retrying", e);
                restart = true;
                try {
                    Thread.sleep(MAX_BACKOFF);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    void stop() {
        running = false;
    }
}
