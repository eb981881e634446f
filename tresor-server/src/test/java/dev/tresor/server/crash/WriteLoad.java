package dev.tresor.server.crash;

import dev.tresor.server.crash.CrashRig.Reply;
import java.io.IOException;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Concurrent writers against one server process, each recording every write the server
 * acknowledged with a 2xx: what was written (secret, version, value, or a grant) and the request
 * id the server audited it under. They run until the server dies under them; a failure to connect
 * or a reset connection ends a writer, and is an error only if the server was not being killed.
 *
 * <p>Each writer cycles through: the admin creates a new secret in group {@code crash}; the admin
 * grants it to group {@code granted}; the {@code writer} client (write role in {@code crash}) adds
 * a version to a secret all writers share (so versions are contended); the writer adds a version
 * to the new secret.
 */
final class WriteLoad {

    /** An acknowledged write; {@code version} and {@code value} are null for a grant. */
    record Ack(String action, String secret, Integer version, String value, String requestId, int status) {}

    static final int SHARED_SECRETS = 4;

    private final int port;
    private final int round;
    private final HttpClientFactory clients;
    private final CountDownLatch enough;
    private final Queue<Ack> acks;
    private final Queue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean killing = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();

    interface HttpClientFactory {
        HttpClient admin();

        HttpClient writer();
    }

    /**
     * @param acks   where acknowledged writes go (shared across rounds)
     * @param enough counted down once per acknowledged write, so the test can kill mid-load
     */
    WriteLoad(int port, int round, HttpClientFactory clients, Queue<Ack> acks, CountDownLatch enough) {
        this.port = port;
        this.round = round;
        this.clients = clients;
        this.acks = acks;
        this.enough = enough;
    }

    static String shared(int i) {
        return "crash/shared/s" + i;
    }

    void start(int writers) {
        for (int t = 0; t < writers; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().name("crash-writer-" + round + "-" + t).start(() -> run(id)));
        }
    }

    /** Requests sent whose answer has not arrived yet. */
    int inFlight() {
        return inFlight.get();
    }

    /** From now on a failed connection is the expected consequence of the kill. */
    void killing() {
        killing.set(true);
    }

    /** Waits for every writer to notice the dead server; returns whether all stopped. */
    boolean awaitStopped(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        for (Thread t : threads) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0 || !t.join(java.time.Duration.ofMillis(left))) {
                return false;
            }
        }
        return true;
    }

    List<String> errors() {
        return List.copyOf(errors);
    }

    private void run(int t) {
        HttpClient admin = clients.admin();
        HttpClient writer = clients.writer();
        String own = null;
        try {
            for (int j = 0; ; j++) {
                String value = "v-r" + round + "-t" + t + "-" + j + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
                switch (j % 4) {
                    case 0 -> {
                        String name = "crash/r" + round + "/t" + t + "/s" + j;
                        Reply r = send(admin, "PUT", "/v1/secrets/" + name,
                                "{\"value\":" + CrashRig.quote(value) + ",\"groups\":[\"crash\"]}", 201);
                        if (r == null) {
                            return;
                        }
                        ack("secret.write", name, r, value);
                        own = name;
                    }
                    case 1 -> {
                        Reply r = send(admin, "PUT", "/v1/groups/granted/secrets/" + own, null, 200);
                        if (r == null) {
                            return;
                        }
                        acks.add(new Ack("grant.add", own, null, null, r.requestId(), r.status()));
                        enough.countDown();
                    }
                    case 2 -> {
                        String name = shared((t + j / 4) % SHARED_SECRETS);
                        Reply r = send(writer, "PUT", "/v1/secrets/" + name, "{\"value\":" + CrashRig.quote(value) + "}", 200);
                        if (r == null) {
                            return;
                        }
                        ack("secret.write", name, r, value);
                    }
                    default -> {
                        Reply r = send(writer, "PUT", "/v1/secrets/" + own, "{\"value\":" + CrashRig.quote(value) + "}", 200);
                        if (r == null) {
                            return;
                        }
                        ack("secret.write", own, r, value);
                    }
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            errors.add("writer " + t + ": " + e);
        }
    }

    private void ack(String action, String name, Reply r, String value) {
        acks.add(new Ack(action, name, r.json().get("version").asInt(), value, r.requestId(), r.status()));
        enough.countDown();
    }

    /** The reply, or null once the server is gone. Any other answer than the expected one is an error. */
    private Reply send(HttpClient client, String method, String path, String body, int expected) throws InterruptedException {
        Reply r;
        inFlight.incrementAndGet();
        try {
            r = CrashRig.call(client, port, method, path, body);
        } catch (IOException e) {
            if (!killing.get()) {
                errors.add(method + " " + path + " failed before the kill: " + e);
            }
            return null;
        } finally {
            inFlight.decrementAndGet();
        }
        if (r.status() != expected) {
            // A live server answered something other than success: that is a bug, not a crash effect.
            errors.add(method + " " + path + " answered " + r.status() + ": " + r.body());
            return null;
        }
        if (r.requestId() == null) {
            errors.add(method + " " + path + " answered without X-Request-Id");
            return null;
        }
        return r;
    }
}
