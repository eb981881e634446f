package dev.tresor.server;

import dev.tresor.Tresor;
import dev.tresor.keys.KeyringChanges;
import dev.tresor.keys.KeyringRotation;
import dev.tresor.model.TresorException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a keyring rotation in the background on this node ({@code POST /v1/keys/rotate
 * {"keyring": true}}): the fresh primary is added before the request is answered, then batches
 * re-wrap the older data keys with a pause between them (writers wait for one batch at most), then
 * the older keys are retired. A start that finds a rotation unfinished (the keyring holds older
 * keys) resumes it. Progress is in {@code GET /v1/keys/status} and in the log.
 */
final class KeyringRotationJob extends org.eclipse.jetty.util.component.AbstractLifeCycle {

    private static final Logger LOG = LoggerFactory.getLogger(KeyringRotationJob.class);
    /** Pause between batches: the rotation yields the head locks to writers this often. */
    static final Duration PAUSE = Duration.ofMillis(20);

    /** What the job is doing, for the status. */
    record State(String phase, long rewrapped, long unreadable, long remaining, Instant startedAt, String problem) {}

    private final Tresor tresor;
    private final Clock clock;
    private final int batchSize;
    private final Duration pause;
    private final AtomicReference<State> state = new AtomicReference<>(new State("idle", 0, 0, 0, null, null));
    /** Read by the status and the stop from other threads. */
    private volatile Thread worker;

    KeyringRotationJob(Tresor tresor, Clock clock, int batchSize, Duration pause) {
        this.tresor = tresor;
        this.clock = clock;
        this.batchSize = batchSize;
        this.pause = pause;
    }

    /** Adds the fresh primary and starts the re-wrap; refused while a rotation is running on this node. */
    synchronized Map<String, Object> begin() {
        if (running()) {
            throw TresorException.conflict("a keyring rotation is already running on this node (" + state.get().rewrapped()
                    + " data keys re-wrapped so far); see GET /v1/keys/status");
        }
        KeyringRotation rotation = tresor.keyringRotation();
        KeyringChanges.Change begun = rotation.begin();
        long remaining = rotation.remaining();
        launch(remaining);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("keyring", true);
        out.put("primaryKeyId", begun.after().keyId());
        out.put("previousPrimaryKeyId", begun.before().keyId());
        out.put("keyringVersion", begun.after().version());
        out.put("toRewrap", remaining);
        return out;
    }

    /** At start: resumes a rotation that an earlier run (on any node) left unfinished. */
    synchronized void resumeIfUnfinished() {
        KeyringRotation rotation = tresor.keyringRotation();
        if (rotation.unfinished() && !running()) {
            long remaining = rotation.remaining();
            LOG.info("resuming an unfinished keyring rotation: {} data key(s) left to re-wrap", remaining);
            launch(remaining);
        }
    }

    private void launch(long remaining) {
        Instant started = clock.instant();
        state.set(new State("rewrapping", 0, 0, remaining, started, null));
        worker = Thread.ofVirtual().name("tresor-keyring-rotation").start(() -> run(remaining, started));
    }

    private void run(long total, Instant started) {
        KeyringRotation rotation = tresor.keyringRotation();
        try {
            KeyringRotation.Result result = rotation.finish(batchSize, (done, unreadable) -> {
                state.set(new State("rewrapping", done, unreadable, Math.max(0, total - done), started, null));
                Thread.sleep(pause);
            });
            if (result.retired().isPresent()) {
                state.set(new State("done", result.rewrapped(), result.unreadable(), 0, started, null));
                LOG.info("keyring rotation done: {} data key(s) re-wrapped, older keys retired (keyring version {})",
                        result.rewrapped(), result.retired().get().after().version());
            } else {
                String problem = result.stillUnderOlderKeys() + " data key(s) still under an older key ("
                        + result.unreadable() + " did not unwrap: see the integrity alarms); the older keys stay in the "
                        + "keyring";
                state.set(new State("incomplete", result.rewrapped(), result.unreadable(), result.stillUnderOlderKeys(),
                        started, problem));
                LOG.warn("keyring rotation incomplete: {}", problem);
            }
        } catch (InterruptedException e) {
            State s = state.get();
            state.set(new State("stopped", s.rewrapped(), s.unreadable(), s.remaining(), started,
                    "stopped with the server; the next start resumes it"));
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            State s = state.get();
            state.set(new State("failed", s.rewrapped(), s.unreadable(), s.remaining(), started, e.getMessage()));
            LOG.error("keyring rotation failed after {} data key(s); the next start resumes it: {}", s.rewrapped(),
                    e.getMessage());
        }
    }

    boolean running() {
        return worker != null && worker.isAlive();
    }

    State state() {
        return state.get();
    }

    /** Waits for the running rotation (tests, and an orderly stop). */
    boolean await(Duration timeout) throws InterruptedException {
        Thread t = worker;
        return t == null || t.join(timeout);
    }

    /** Started with the API server (a Jetty bean of it): resumes an unfinished rotation. */
    @Override
    protected void doStart() {
        resumeIfUnfinished();
    }

    /** Stopped with the API server: the running batch commits or rolls back, the next start resumes. */
    @Override
    protected void doStop() {
        Thread t = worker;
        if (t != null && t.isAlive()) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
