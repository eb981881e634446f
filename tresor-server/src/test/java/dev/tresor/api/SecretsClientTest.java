package dev.tresor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.client.api.ApiException;
import dev.tresor.client.api.SecretValue;
import dev.tresor.client.api.SecretsClient;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TresorHttp;
import dev.tresor.client.api.WatchPage;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor-client's typed calls against a real server (real TLS, real SQLite): what the rotation
 * job, the agent and the console rely on, including a write that fails over from a dead node.
 */
class SecretsClientTest {

    @TempDir
    Path dir;

    private static URI deadNode() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return URI.create("https://localhost:" + socket.getLocalPort());
        }
    }

    private static SecretsClient client(ServerFixture f, IssuedCert who, URI... nodes) {
        return new SecretsClient(new TresorHttp(ServerAddresses.of(nodes), TlsSource.fixed(f.sslContext(who)),
                TresorHttp.Options.defaults("test").withBackoff(attempt -> { })));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void typedCallsRoundTripThroughARealServer() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"rotator\",\"identity\":\"spiffe://tresor.test/rotator\"}")
                    .statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/rotator", "{\"role\":\"write\"}").statusCode()).isEqualTo(200);
            IssuedCert rotator = f.pki().client("spiffe://tresor.test/rotator");
            URI api = URI.create("https://localhost:" + f.apiPort());
            SecretsClient secrets = client(f, rotator, deadNode(), api);
            try {
                assertThat(secrets.whoami().path("identity").asText()).isEqualTo("spiffe://tresor.test/rotator");

                byte[] binary = {0, (byte) 0xff, 0x10, (byte) 0x80};
                // Only an admin may place a new secret in groups; the rotator then writes as a member.
                SecretsClient asAdmin = client(f, admin, api);
                try {
                    assertThat(asAdmin.put("app/one", new SecretsClient.Write(utf8("first"), null, List.of(), List.of("app"))))
                            .isEqualTo(1);
                    assertThat(asAdmin.put("app/bin", new SecretsClient.Write(binary.clone(), null, List.of(), List.of("app"))))
                            .isEqualTo(1);
                } finally {
                    asAdmin.http().close();
                }
                assertThat(secrets.put("app/one", SecretsClient.Write.value(utf8("second")).withCas(1)
                        .withLabels(List.of("pending")))).isEqualTo(2);

                SecretValue pending = secrets.read("app/one", "pending");
                assertThat(pending.version()).isEqualTo(2);
                assertThat(new String(pending.value(), StandardCharsets.UTF_8)).isEqualTo("second");
                assertThat(pending.toString()).doesNotContain("second");
                assertThat(secrets.read("app/one", 1).value()).isEqualTo(utf8("first"));
                assertThat(secrets.read("app/bin", "current").value()).isEqualTo(binary);
                assertThat(secrets.find("app/one", "no-such-label")).isEmpty();
                // A secret the caller cannot see is refused, not "not found": the server does not tell which names exist.
                assertThatThrownBy(() -> secrets.find("app/none", "current"))
                        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(403));

                // A version labelled only "pending" leaves "current" at 1: cas compares with the current version.
                assertThat(secrets.read("app/one", "current").version()).isEqualTo(1);
                ApiException stale = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
                        () -> secrets.put("app/one", SecretsClient.Write.value(utf8("third")).withCas(2)));
                assertThat(stale.status()).isEqualTo(409);
                assertThat(stale.requestId()).isNotBlank();

                secrets.moveLabel("app/one", "current", 2, 1);
                assertThat(secrets.read("app/one", "current").version()).isEqualTo(2);

                assertThat(secrets.list("app/")).extracting(s -> s.name()).containsExactly("app/bin", "app/one");
                assertThat(secrets.list("app/one").getFirst().groups()).containsExactly("app");
                assertThat(secrets.list("app/one").getFirst().labels()).containsEntry("current", 2);

                WatchPage start = secrets.watch(null, Duration.ZERO);
                secrets.put("app/one", SecretsClient.Write.value(utf8("fourth")));
                WatchPage next = secrets.watch(start.cursor(), Duration.ofSeconds(5));
                assertThat(next.changes()).anySatisfy(c -> assertThat(c.secret()).isEqualTo("app/one"));
                assertThat(next.changes().toString()).doesNotContain("fourth");
            } finally {
                secrets.http().close();
            }
        }
    }

    @Test
    void aCallerWithoutAGrantGetsTheServersRefusal() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/secrets/app/one", "{\"value\":\"x\",\"groups\":[\"app\"]}").statusCode())
                    .isEqualTo(201);
            assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"w\",\"identity\":\"spiffe://tresor.test/w\"}")
                    .statusCode()).isEqualTo(201);
            IssuedCert stranger = f.pki().client("spiffe://tresor.test/w");
            SecretsClient secrets = client(f, stranger, URI.create("https://localhost:" + f.apiPort()));
            try {
                assertThatThrownBy(() -> secrets.read("app/one", "current"))
                        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isIn(403, 404));
                assertThatThrownBy(() -> secrets.put("app/one", SecretsClient.Write.value(utf8("y"))))
                        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isIn(403, 404));
            } finally {
                secrets.http().close();
            }
        }
    }
}
