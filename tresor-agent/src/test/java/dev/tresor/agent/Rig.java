package dev.tresor.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.agent.config.AgentConfig;
import dev.tresor.agent.config.ConfigLoader;
import dev.tresor.agent.feed.TresorFeedClient;
import dev.tresor.agent.identity.FileIdentity;
import dev.tresor.agent.reload.ReloadAction;
import dev.tresor.agent.render.AtomicWriter;
import dev.tresor.agent.render.Destination;
import dev.tresor.agent.render.WriteHook;
import dev.tresor.agent.status.StatusReporter;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;

/**
 * A real Tresor server (in-process, real TLS and SQLite, on a fixed port so it can be stopped and
 * started again at the same address), a client "agent" in group "app", and a fresh folder under
 * /dev/shm (tmpfs) for the agent to render into.
 */
final class Rig implements AutoCloseable {

    static final String AGENT = "spiffe://" + ServerFixture.TRUST_DOMAIN + "/ns/app/sa/agent";
    private static final ObjectMapper JSON = new ObjectMapper();

    final ServerFixture server;
    final Path work;
    final Path shm;
    final Path cert;
    final Path key;
    final Path ca;
    private final Set<String> created = new HashSet<>();

    private Rig(ServerFixture server, Path work) throws IOException {
        this.server = server;
        this.work = work;
        this.shm = Files.createDirectories(Path.of("/dev/shm", "tresor-agent-test-" + UUID.randomUUID()));
        IssuedCert agent = server.pki().client(AGENT);
        IssuedCert.PemFiles files = agent.writePem(work, "agent");
        this.cert = files.certificate();
        this.key = files.privateKey();
        this.ca = work.resolve("server-ca.pem");
        Files.writeString(ca, TestPki.pem(server.pki().caCertificate()));
    }

    static Rig start(Path dir) throws IOException {
        Path serverDir = Files.createDirectories(dir.resolve("server"));
        ServerFixture server = ServerFixture.start(serverDir, ServerFixture.StoreKind.SQLITE);
        // A fixed API port, so a stopped server comes back at the address the agent knows.
        server.stopServer();
        Path yaml = serverDir.resolve("tresor.yaml");
        Files.writeString(yaml, Files.readString(yaml).replace("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:" + freePort() + "\""));
        server.startServer();
        Rig rig = new Rig(server, Files.createDirectories(dir.resolve("work")));
        rig.admin("POST", "/v1/groups", "{\"name\":\"app\"}", 201);
        rig.admin("POST", "/v1/clients", "{\"name\":\"agent\",\"identity\":\"" + AGENT + "\"}", 201);
        rig.admin("PUT", "/v1/groups/app/clients/agent", "{\"role\":\"read\"}", 200);
        return rig;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    JsonNode admin(String method, String path, String body, int... expected) {
        HttpResponse<String> r = server.call(server.admin(), method, path, body);
        if (expected.length > 0) {
            boolean ok = false;
            for (int e : expected) {
                ok |= r.statusCode() == e;
            }
            assertThat(ok).as(method + " " + path + " -> " + r.statusCode() + " " + r.body()).isTrue();
        }
        try {
            return r.body().isEmpty() ? null : JSON.readTree(r.body());
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes a new version (readable by group app); returns its version number. */
    int put(String name, String value) {
        String groups = created.add(name) ? ",\"groups\":[\"app\"]" : "";
        JsonNode r = admin("PUT", "/v1/secrets/" + name, "{\"value\":" + quote(value) + groups + "}", 200, 201);
        return r.path("version").asInt();
    }

    void revoke(String name) {
        admin("DELETE", "/v1/groups/app/secrets/" + name, null, 200, 204);
    }

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** agent.yaml in the work folder: this server, the agent's certificate, /dev/shm, plus {@code body}. */
    Path config(String body) throws IOException {
        return config("credentials:\n  cert: " + cert + "\n  key: " + key + "\n  ca: " + ca + "\n", body);
    }

    /** The same with another {@code credentials:} block. */
    Path config(String credentials, String body) throws IOException {
        return config("server: https://localhost:" + server.apiPort() + "\n", credentials, body);
    }

    /** The same with another {@code server:} line (and maybe {@code failover:}). */
    Path config(String serverLines, String credentials, String body) throws IOException {
        Path file = work.resolve("agent-" + UUID.randomUUID() + ".yaml");
        Files.writeString(file, """
                %s%sdestination: %s
                pollInterval: 200ms
                debounce: 50ms
                watchWait: 5s
                requestTimeout: 5s
                backoff:
                  min: 100ms
                  max: 1s
                status:
                  file: %s
                """.formatted(serverLines, credentials, shm, work.resolve("status-" + file.getFileName() + ".json"))
                + body);
        return file;
    }

    Path statusFile(Path config) {
        return work.resolve("status-" + config.getFileName() + ".json");
    }

    JsonNode status(Path config) {
        try {
            return JSON.readTree(Files.readString(statusFile(config)));
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    /** An agent running in this JVM (the same parts AgentCommand wires), stopped by close(). */
    Running run(Path configFile) {
        AgentConfig config = ConfigLoader.load(configFile);
        dev.tresor.agent.feed.Identity identity;
        java.net.URI api = config.server();
        if (config.credentials() instanceof AgentConfig.Directory d) {
            dev.tresor.agent.identity.DirectoryIdentity directory =
                    new dev.tresor.agent.identity.DirectoryIdentity(d.dir(), config.server(), config.failover(), d.renew());
            identity = directory;
            api = directory.server();
        } else {
            AgentConfig.Files f = (AgentConfig.Files) config.credentials();
            identity = new FileIdentity(f.cert(), f.key(), f.ca());
        }
        StatusReporter status = new StatusReporter(config.status());
        Agent agent = new Agent(config, new AtomicWriter(Destination.open(config.destination(), false), WriteHook.NONE),
                new TresorFeedClient(dev.tresor.agent.cli.AgentCommand.nodes(api, config), identity, config.requestTimeout()),
                config.reload() == null ? null : new ReloadAction(config.reload()), null, status, Clock.systemUTC(),
                RandomGenerator.of("L64X128MixRandom"), identity);
        Thread thread = Thread.ofPlatform().name("agent-under-test").start(agent::run);
        return new Running(agent, thread, configFile, identity);
    }

    record Running(Agent agent, Thread thread, Path config, dev.tresor.agent.feed.Identity identity) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            agent.close();
            identity.close();
            thread.join(30_000);
            assertThat(thread.isAlive()).as("agent loop stopped").isFalse();
        }
    }

    String read(String file) {
        try {
            return Files.readString(shm.resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    boolean holds(String file, String content) {
        return content.equals(read(file));
    }

    @Override
    public void close() throws IOException {
        server.close();
        try (Stream<Path> walk = Files.walk(shm)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
