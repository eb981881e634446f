package dev.tresor.mount;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Shared test plumbing: a real server, clients and grants made through the API, real mounts that
 * are always unmounted, subprocesses with a bound, and polling with a deadline (testkit's Await, never a fixed sleep).
 */
final class MountRig implements AutoCloseable {

    static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    final ServerFixture server;
    private final List<TresorMount> mounts = new ArrayList<>();

    MountRig(Path dir) {
        requireFuse();
        this.server = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
    }

    /** No skipping: a machine without FUSE fails these tests loudly, naming what to install. */
    static void requireFuse() {
        assertThat(Path.of("/dev/fuse")).as("/dev/fuse (the kernel's FUSE device) must exist for the mount tests").exists();
        assertThat(MountSettings.DEFAULT_LIBFUSE).as("libfuse3 (apt-get install fuse3) must be installed").exists();
        assertThat(Path.of("/usr/bin/fusermount3")).as("fusermount3 (apt-get install fuse3) must be installed").exists();
    }

    JsonNode call(IssuedCert who, String method, String path, String body, int expected) {
        HttpResponse<String> reply = server.call(who, method, path, body);
        assertThat(reply.statusCode()).as(method + " " + path + ": " + reply.body()).isEqualTo(expected);
        try {
            return reply.body().isEmpty() ? null : JSON.readTree(reply.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode admin(String method, String path, String body, int expected) {
        return call(server.admin(), method, path, body, expected);
    }

    /** Registers a non-admin client and returns its certificate. */
    IssuedCert client(String name) {
        String identity = "spiffe://" + ServerFixture.TRUST_DOMAIN + "/mount-test/" + name;
        admin("POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}", 201);
        return server.pki().client(identity);
    }

    void group(String group, String... members) {
        admin("POST", "/v1/groups", "{\"name\":\"" + group + "\"}", 201);
        for (String member : members) {
            admin("PUT", "/v1/groups/" + group + "/clients/" + member, "{\"role\":\"read\"}", 200);
        }
    }

    /** Writes a new version (admin), granted to {@code group} on creation. */
    int put(String name, String value, String group) {
        String groups = group == null ? "" : ",\"groups\":[\"" + group + "\"]";
        HttpResponse<String> reply = server.call(server.admin(), "PUT", "/v1/secrets/" + name,
                "{\"value\":\"" + value + "\"" + groups + "}");
        assertThat(reply.statusCode()).as("PUT " + name + ": " + reply.body()).isIn(200, 201);
        return json(reply.body()).path("version").asInt();
    }

    void grant(String group, String secret) {
        admin("PUT", "/v1/groups/" + group + "/secrets/" + secret, null, 200);
    }

    void revoke(String group, String secret) {
        admin("DELETE", "/v1/groups/" + group + "/secrets/" + secret, null, 200);
    }

    URI address() {
        return URI.create("https://localhost:" + server.apiPort());
    }

    MountSettings settings(IssuedCert who, Path dir) {
        // The server has the change feed: a poll interval of an hour means a change seen within a
        // test's deadline came through GET /v1/watch, not the fallback timer.
        // A generous request timeout: these machines run several builds at once, and only the
        // server-down tests are about the timeout (they set their own).
        return MountSettings.of(address(), server.sslContext(who), dir).withPollInterval(Duration.ofHours(1))
                .withRequestTimeout(Duration.ofSeconds(20));
    }

    TresorMount mount(MountSettings settings) throws MountException {
        TresorMount mount = TresorMount.mount(settings);
        mounts.add(mount);
        return mount;
    }

    /** Audited value reads of {@code secret} by anyone (outcome allowed). */
    long auditedReads(String secret) {
        return server.auditLines().stream().map(MountRig::json)
                .filter(n -> "secret.read".equals(n.path("action").asText()) && secret.equals(n.path("secret").asText())
                        && "allowed".equals(n.path("outcome").asText()))
                .count();
    }

    private static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        dev.tresor.testkit.Await.until(what, DEADLINE, condition);
    }

    /** The result of a bounded subprocess. */
    record Run(int exit, String out, String err) {}

    /** Runs a command (cat, ls, stat); a run still going after the deadline is killed and fails the test (a hang). */
    static Run run(String... command) {
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            boolean done = process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            if (!done) {
                process.destroyForcibly();
            }
            assertThat(done).as(String.join(" ", command) + " hung").isTrue();
            return new Run(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                    new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Unmounts every mount made, then stops the server; each step runs even if an earlier one
     * failed, and a failed unmount then fails the test (a mount left behind is a defect).
     */
    @Override
    public void close() {
        RuntimeException failed = null;
        for (TresorMount mount : mounts) {
            try {
                mount.close();
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        mounts.clear();
        server.close();
        if (failed != null) {
            throw failed;
        }
    }

    void unmountAll() {
        for (TresorMount mount : mounts) {
            mount.close();
        }
        mounts.clear();
    }
}
