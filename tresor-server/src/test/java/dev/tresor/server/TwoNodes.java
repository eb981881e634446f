package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.server.config.ConfigLoader;
import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Two server nodes on one PostgreSQL (issue 17): the fixture's node A, and a node B started in
 * this JVM from A's config with its own audit log ({@code audit-b.log}) on the same store and KEK.
 * Both are real servers on their own TLS ports; any test that needs "a write on one node, seen on
 * the other" or "one node dies, the other serves" starts here instead of copying the set-up.
 */
public final class TwoNodes implements AutoCloseable {

    private final ServerFixture a;
    private final Path configB;
    private TresorServer b;

    private TwoNodes(ServerFixture a, Path configB) {
        this.a = a;
        this.configB = configB;
    }

    public static TwoNodes start(Path dir) {
        return start(dir, "");
    }

    /** {@code bStoreSettings}: YAML lines added under B's {@code store:} (e.g. {@code "  changeRecheck: 10m\n"}). */
    public static TwoNodes start(Path dir, String bStoreSettings) {
        ServerFixture a = ServerFixture.start(dir, ServerFixture.StoreKind.POSTGRESQL);
        try {
            Path configB = dir.resolve("tresor-b.yaml");
            Files.writeString(configB, Files.readString(dir.resolve("tresor.yaml"))
                    .replace("path: audit.log", "path: audit-b.log").replace("store:\n", "store:\n" + bStoreSettings));
            TwoNodes nodes = new TwoNodes(a, configB);
            nodes.startB();
            return nodes;
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    public ServerFixture a() {
        return a;
    }

    public TresorServer b() {
        return b;
    }

    /** Node B's API base, {@code https://localhost:PORT}. */
    public URI apiB() {
        return URI.create("https://localhost:" + b.apiPort());
    }

    public void startB() {
        b = TresorServer.start(ConfigLoader.load(configB), a.clock());
    }

    public void stopB() {
        if (b != null) {
            b.close();
            b = null;
        }
    }

    /** A request to node B as {@code who} (body sent as JSON when not null). */
    public HttpResponse<String> onB(IssuedCert who, String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(apiB() + path))
                .timeout(Duration.ofSeconds(90)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return a.send(who, request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An admin request to node A that must answer one of {@code expected}. */
    public HttpResponse<String> admin(String method, String path, String body, int... expected) {
        HttpResponse<String> reply = a.call(a.admin(), method, path, body);
        assertThat(reply.statusCode()).as(method + " " + path + ": " + reply.body())
                .isIn(java.util.Arrays.stream(expected).boxed().toArray());
        return reply;
    }

    /** Registers client {@code name} ({@code spiffe://tresor.test/NAME}) as a reader of {@code group} (made if new), through A. */
    public IssuedCert reader(String group, String name) {
        admin("POST", "/v1/groups", "{\"name\":\"" + group + "\"}", 201, 409);
        String identity = "spiffe://" + ServerFixture.TRUST_DOMAIN + "/" + name;
        admin("POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}", 201);
        admin("PUT", "/v1/groups/" + group + "/clients/" + name, "{\"role\":\"read\"}", 200);
        return a.pki().client(identity);
    }

    @Override
    public void close() {
        try {
            stopB();
        } finally {
            a.close();
        }
    }
}
