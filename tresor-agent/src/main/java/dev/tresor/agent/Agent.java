package dev.tresor.agent;

import dev.tresor.agent.config.AgentConfig;
import dev.tresor.agent.config.Output;
import dev.tresor.agent.config.SecretRef;
import dev.tresor.agent.feed.Change;
import dev.tresor.agent.feed.ReadResult;
import dev.tresor.agent.feed.TresorFeedClient;
import dev.tresor.agent.feed.WatchResult;
import dev.tresor.agent.reload.ExecSupervisor;
import dev.tresor.agent.reload.ReloadAction;
import dev.tresor.agent.render.AtomicWriter;
import dev.tresor.agent.render.TemplateRenderer;
import dev.tresor.agent.status.AgentStatus;
import dev.tresor.agent.status.StatusReporter;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's loop: learn the feed cursor, render everything, then follow {@code GET /v1/watch},
 * re-rendering only the outputs whose secrets changed (after {@code debounce}, so a burst of
 * changes gives one reload), and run the reload action when a file's content really changed.
 *
 * <p>What each failure does (docs/delivery.md): a secret the server says is gone (403/404/410)
 * has its file removed unless {@code keepOnRevoke}; anything else (unreachable, timeout, 5xx)
 * keeps every file as it is and is retried with exponential backoff and jitter; a 410 on the
 * feed re-reads everything from a fresh cursor; a server without the feed is re-read every
 * {@code pollInterval}. Values are never logged; buffers holding them are zeroed after use.
 */
public final class Agent implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** --once gives up after this many transient failures in a row (an init container then fails and is retried). */
    static final int ONCE_ATTEMPTS = 5;
    public static final int EXIT_UNAVAILABLE = 75;

    private final AgentConfig config;
    private final AtomicWriter writer;
    private final TresorFeedClient client;
    private final ReloadAction reload;
    private final ExecSupervisor exec;
    private final StatusReporter status;
    private final Clock clock;
    private final RandomGenerator random;
    private final dev.tresor.agent.feed.Identity identity;
    private final Map<Output, TemplateRenderer> templates = new HashMap<>();
    private final Map<Output, Rendered> rendered = new LinkedHashMap<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Object wake = new Object();
    /** Files changed by passes whose reload has not run yet (a pass cut short by an outage reloads nothing). */
    private final java.util.LinkedHashSet<String> unreloaded = new java.util.LinkedHashSet<>();
    private boolean envUnreloaded;
    private volatile boolean running = true;
    private String cursor;
    private String lastSync;
    private String lastError;
    private int failures;
    private String state = "starting";

    /** What was last rendered for one output: a digest of the content (not the content), and from which versions. */
    private record Rendered(byte[] digest, Map<String, Integer> versions, String state, String at, String problem) {}

    /** What one render pass did. */
    private record Outcome(List<String> changedFiles, boolean envChanged, String unavailable, List<String> missing) {}

    public Agent(AgentConfig config, AtomicWriter writer, TresorFeedClient client, ReloadAction reload, ExecSupervisor exec,
                 StatusReporter status, Clock clock, RandomGenerator random,
                 dev.tresor.agent.feed.Identity identity) {
        this.config = config;
        this.writer = writer;
        this.client = client;
        this.reload = reload;
        this.exec = exec;
        this.status = status;
        this.clock = clock;
        this.random = random;
        this.identity = identity;
        for (Output output : config.outputs()) {
            if (output instanceof Output.Template t) {
                templates.put(output, TemplateRenderer.compile(t));
            }
        }
    }

    /**
     * {@code --once}: render everything and return 0, 1 if some secret could not be read (named on
     * stderr), or {@link #EXIT_UNAVAILABLE} if the server stayed unreachable.
     */
    public int once() {
        for (int attempt = 1; ; attempt++) {
            Outcome outcome = renderAll();
            if (outcome.unavailable() == null) {
                publish("ok");
                if (!outcome.missing().isEmpty()) {
                    LOG.error("not rendered (not readable by {}): {}", identity.name(), outcome.missing());
                    return 1;
                }
                return 0;
            }
            failed(outcome.unavailable());
            if (attempt >= ONCE_ATTEMPTS || !pause(backoff())) {
                LOG.error("giving up after {} attempts: {}", attempt, outcome.unavailable());
                return EXIT_UNAVAILABLE;
            }
        }
    }

    /** Runs until {@link #stop()}; in exec mode starts the child after the first complete render. */
    public void run() {
        boolean all = true;
        boolean first = true;
        boolean polling = false;
        Set<String> pending = new HashSet<>();
        long dueAt = 0;
        while (running) {
            if (cursor == null && !polling) {
                WatchResult start = client.watch(null, Duration.ZERO);
                switch (start) {
                    case WatchResult.Changes c -> {
                        cursor = c.cursor();
                        all = true;
                    }
                    case WatchResult.NoFeed n -> {
                        LOG.warn("the server has no change feed ({}); re-reading every {}", n.message(), config.pollInterval());
                        polling = true;
                    }
                    case WatchResult.Reset r -> {
                        failed("the feed refused a fresh start: " + r.message());
                        pause(backoff());
                        continue;
                    }
                    case WatchResult.Unavailable u -> {
                        failed(u.message());
                        pause(backoff());
                        continue;
                    }
                }
            }
            if (all || (!pending.isEmpty() && clock.millis() >= dueAt)) {
                Outcome outcome = all ? renderAll() : render(affected(pending));
                unreloaded.addAll(outcome.changedFiles());
                envUnreloaded |= outcome.envChanged();
                if (outcome.unavailable() != null) {
                    failed(outcome.unavailable());
                    pause(backoff());
                    continue;
                }
                all = false;
                pending.clear();
                succeeded();
                if (first) {
                    first = false;
                    startChild();
                    LOG.info("ready: {} outputs in {} for {}", config.outputs().size(), writer.path(""), identity.name());
                } else if (!unreloaded.isEmpty() || envUnreloaded) {
                    reload(List.copyOf(unreloaded), envUnreloaded);
                }
                unreloaded.clear();
                envUnreloaded = false;
            }
            if (polling) {
                pause(config.pollInterval());
                all = true;
                continue;
            }
            Duration wait = pending.isEmpty() ? config.watchWait()
                    : Duration.ofMillis(Math.max(0, dueAt - clock.millis()));
            WatchResult next = client.watch(cursor, wait);
            switch (next) {
                case WatchResult.Changes c -> {
                    cursor = c.cursor();
                    succeeded();
                    for (Change change : c.changes()) {
                        if (watched(change.secret())) {
                            if (pending.isEmpty()) {
                                dueAt = clock.millis() + config.debounce().toMillis();
                            }
                            pending.add(change.secret());
                        }
                    }
                }
                case WatchResult.Reset r -> {
                    LOG.warn("the feed lost our place ({}); re-reading everything", r.message());
                    cursor = null;
                }
                case WatchResult.NoFeed n -> {
                    cursor = null;
                    polling = true;
                }
                case WatchResult.Unavailable u -> {
                    failed(u.message());
                    pause(backoff());
                }
            }
        }
        publish("stopped");
    }

    private void startChild() {
        if (exec == null) {
            return;
        }
        try {
            exec.start(env);
        } catch (IOException e) {
            LOG.error("cannot start the application: {}", e.getMessage());
            lastError = "cannot start the application: " + e.getMessage();
            running = false;
        }
    }

    private void reload(List<String> changedFiles, boolean envChanged) {
        try {
            if (exec != null) {
                exec.changed(env, envChanged);
            }
            if (reload != null) {
                reload.run(changedFiles);
            }
        } catch (IOException e) {
            // The files are in place; the app will pick them up at its next reload or restart.
            LOG.warn("reload after {} changed failed: {}", changedFiles, e.getMessage());
            lastError = "reload failed: " + e.getMessage();
            publish(state);
        }
    }

    private boolean watched(String secret) {
        for (Output output : config.outputs()) {
            if (output.secretNames().contains(secret)) {
                return true;
            }
        }
        return false;
    }

    private List<Output> affected(Set<String> secrets) {
        List<Output> out = new ArrayList<>();
        for (Output output : config.outputs()) {
            if (output.secretNames().stream().anyMatch(secrets::contains)) {
                out.add(output);
            }
        }
        return out;
    }

    Outcome renderAll() {
        return render(config.outputs());
    }

    /** Reads what {@code outputs} need (each secret once) and rewrites the outputs whose content changed. */
    private Outcome render(List<Output> outputs) {
        Map<SecretRef, ReadResult> reads = new HashMap<>();
        List<String> changed = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        boolean envChanged = false;
        String unavailable = null;
        try {
            for (Output output : outputs) {
                Map<String, ReadResult.Value> values = new LinkedHashMap<>();
                ReadResult.Gone gone = null;
                ReadResult.Unavailable down = null;
                for (Map.Entry<String, Output.Binding> b : output.bindings().entrySet()) {
                    ReadResult r = reads.computeIfAbsent(b.getValue().ref(), client::read);
                    switch (r) {
                        case ReadResult.Value v -> values.put(b.getKey(), v);
                        case ReadResult.Gone g -> gone = g;
                        case ReadResult.Unavailable u -> down = u;
                    }
                }
                String label = output.options().label();
                if (down != null) {
                    // Transient: the file stays exactly as it is.
                    unavailable = label + ": " + down.message();
                    break;
                }
                if (gone != null) {
                    if (removeOrKeep(output, gone)) {
                        if (output.options().file() != null) {
                            changed.add(output.options().file());
                        }
                        envChanged |= output.options().env() != null;
                    }
                    if (!rendered.containsKey(output) || rendered.get(output).state().equals("missing")) {
                        missing.add(label + " (" + gone.message() + ")");
                    }
                    continue;
                }
                byte[] content;
                try {
                    content = content(output, values);
                } catch (IllegalArgumentException e) {
                    // The secret's shape does not fit the template: keep the last good file and say why.
                    Rendered before = rendered.get(output);
                    rendered.put(output, new Rendered(before == null ? null : before.digest(),
                            before == null ? Map.of() : before.versions(), before == null ? "missing" : before.state(),
                            before == null ? null : before.at(), e.getMessage()));
                    LOG.error("{}: {}", label, e.getMessage());
                    missing.add(label + " (" + e.getMessage() + ")");
                    continue;
                }
                try {
                    byte[] digest = sha256(content);
                    Rendered before = rendered.get(output);
                    Map<String, Integer> versions = new LinkedHashMap<>();
                    values.forEach((name, v) -> versions.put(output.bindings().get(name).ref().name(), v.version()));
                    if (before != null && before.digest() != null && Arrays.equals(before.digest(), digest)
                            && before.state().equals("present")) {
                        rendered.put(output, new Rendered(digest, versions, "present", before.at(), null));
                        continue;
                    }
                    if (output.options().file() != null) {
                        writer.write(output.options(), content);
                        changed.add(output.options().file());
                    }
                    if (output.options().env() != null) {
                        env.put(output.options().env(), new String(content, StandardCharsets.UTF_8));
                        envChanged = true;
                    }
                    rendered.put(output, new Rendered(digest, versions, "present", clock.instant().toString(), null));
                    LOG.info("rendered {} from {}", label, versions);
                } catch (IOException e) {
                    unavailable = label + ": cannot write: " + e.getMessage();
                    break;
                } finally {
                    Arrays.fill(content, (byte) 0);
                }
            }
        } finally {
            for (ReadResult r : reads.values()) {
                if (r instanceof ReadResult.Value v) {
                    v.wipe();
                }
            }
        }
        publish(unavailable == null ? "ok" : "degraded");
        return new Outcome(changed, envChanged, unavailable, missing);
    }

    /** After a 403/404/410: removes the output (true if that changed anything), or keeps it with keepOnRevoke. */
    private boolean removeOrKeep(Output output, ReadResult.Gone gone) {
        Rendered before = rendered.get(output);
        String label = output.options().label();
        if (config.keepOnRevoke() && before != null && before.state().equals("present")) {
            rendered.put(output, new Rendered(before.digest(), before.versions(), "present", before.at(),
                    "kept after " + gone.message() + " (keepOnRevoke)"));
            return false;
        }
        boolean existed = false;
        try {
            if (output.options().file() != null) {
                existed = writer.remove(output.options().file());
            }
        } catch (IOException e) {
            LOG.error("cannot remove {}: {}", label, e.getMessage());
        }
        if (output.options().env() != null) {
            existed |= env.remove(output.options().env()) != null;
        }
        if (existed) {
            LOG.warn("removed {}: {}", label, gone.message());
        }
        rendered.put(output, new Rendered(null, Map.of(), before == null || before.state().equals("missing") ? "missing"
                : "removed", clock.instant().toString(), gone.message()));
        return existed;
    }

    private byte[] content(Output output, Map<String, ReadResult.Value> values) {
        if (output instanceof Output.Raw) {
            byte[] value = values.get("value").bytes();
            return Arrays.copyOf(value, value.length);
        }
        Map<String, Object> model = new HashMap<>();
        for (Map.Entry<String, ReadResult.Value> e : values.entrySet()) {
            byte[] bytes = e.getValue().bytes();
            if (output.bindings().get(e.getKey()).json()) {
                try {
                    model.put(e.getKey(), JSON.readValue(bytes, Object.class));
                } catch (IOException notJson) {
                    // Jackson's message could quote the value: say only which secret.
                    throw new IllegalArgumentException("secret " + output.bindings().get(e.getKey()).ref()
                            + " is not valid JSON (as: json)");
                }
            } else {
                model.put(e.getKey(), new String(bytes, StandardCharsets.UTF_8));
            }
        }
        return templates.get(output).render(model).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] sha256(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void succeeded() {
        failures = 0;
        lastSync = clock.instant().toString();
        if (state.equals("degraded")) {
            LOG.info("in sync with the server again");
        }
        // Also when already ok: lastSync and the certificate serial (after a renewal) move on.
        publish("ok");
    }

    private void failed(String message) {
        if (!running) {
            return; // stop() closed the client under a request in flight: not an outage
        }
        failures++;
        lastError = message;
        LOG.warn("server unavailable (attempt {}), keeping the last good files: {}", failures, message);
        publish("degraded");
    }

    /** Exponential backoff from minBackoff to maxBackoff, with "equal jitter": half fixed, half random. */
    Duration backoff() {
        long min = config.minBackoff().toMillis();
        long max = config.maxBackoff().toMillis();
        long wait = min;
        for (int i = 1; i < failures && wait < max; i++) {
            wait *= 2;
        }
        wait = Math.min(wait, max);
        return Duration.ofMillis(wait / 2 + random.nextLong(wait / 2 + 1));
    }

    /** Waits (the agent's own pacing, not a test's); false when stopped meanwhile. */
    private boolean pause(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        synchronized (wake) {
            while (running) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    return true;
                }
                try {
                    wake.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
            }
        }
        return false;
    }

    private synchronized void publish(String newState) {
        state = newState;
        Map<String, AgentStatus.FileStatus> files = new LinkedHashMap<>();
        for (Output output : config.outputs()) {
            Rendered r = rendered.get(output);
            files.put(output.options().label(), r == null ? new AgentStatus.FileStatus("missing", Map.of(), null, null)
                    : new AgentStatus.FileStatus(r.state(), r.versions(), r.at(), r.problem()));
        }
        status.publish(new AgentStatus(state, identity.name(), identity.serial(), cursor, lastSync, lastError, failures, files));
    }

    public String state() {
        return state;
    }

    /** Ends {@link #run()} at its next step (the long-poll in flight is abandoned by closing the client). */
    public void stop() {
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
        client.close();
    }

    @Override
    public void close() {
        stop();
        status.close();
    }
}
