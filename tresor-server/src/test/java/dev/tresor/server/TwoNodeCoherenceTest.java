package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.audit.AuditVerifier;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.testkit.IssuedCert;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server nodes on one PostgreSQL (issue 17): what one node changes, the other enforces at its
 * next request, whatever it had cached: a new version, a revoked membership, a deleted client. Each node keeps its own audit chain, and both verify.
 */
class TwoNodeCoherenceTest {

    @TempDir
    Path dir;

    private static HttpResponse<String> onNode(ServerFixture f, TresorServer node, IssuedCert who, String method, String path,
                                               String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + node.apiPort() + path))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return f.send(who, request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aChangeOnOneNodeIsEnforcedByTheOtherAtItsNextRequest() throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.POSTGRESQL)) {
            Path configB = dir.resolve("tresor-b.yaml");
            Files.writeString(configB, Files.readString(dir.resolve("tresor.yaml")).replace("path: audit.log", "path: audit-b.log"));
            try (TresorServer b = TresorServer.start(ConfigLoader.load(configB), f.clock())) {
                IssuedCert admin = f.admin();
                assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
                assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"web\",\"identity\":\"spiffe://tresor.test/web\"}")
                        .statusCode()).isEqualTo(201);
                assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/web", "{\"role\":\"read\"}").statusCode()).isEqualTo(200);
                assertThat(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"v1\",\"groups\":[\"app\"]}").statusCode())
                        .isEqualTo(201);
                IssuedCert web = f.pki().client("spiffe://tresor.test/web");

                // Node B serves (and caches) the caller, the secret and the version.
                HttpResponse<String> read = onNode(f, b, web, "GET", "/v1/secrets/db/pw", null);
                assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
                assertThat(read.body()).contains("\"value\":\"v1\"");

                // A new version on A: B's next read returns it.
                assertThat(f.call(admin, "PUT", "/v1/secrets/db/pw", "{\"value\":\"v2\"}").statusCode()).isEqualTo(200);
                assertThat(onNode(f, b, web, "GET", "/v1/secrets/db/pw", null).body()).contains("\"value\":\"v2\"");

                // The membership revoked on A: B's next request is refused.
                assertThat(f.call(admin, "DELETE", "/v1/groups/app/clients/web", null).statusCode()).isIn(200, 204);
                long revoked = System.nanoTime();
                HttpResponse<String> refused = onNode(f, b, web, "GET", "/v1/secrets/db/pw", null);
                long refusedAfterMicros = (System.nanoTime() - revoked) / 1000;
                assertThat(refused.statusCode()).as(refused.body()).isIn(403, 404);
                System.out.println("TwoNodeCoherenceTest: revoke on A refused by B at its first request, "
                        + refusedAfterMicros + " µs after the revoke answered (not a bound; see bench for figures)");

                // The client deleted on A: its certificate gets 401 on B.
                assertThat(f.call(admin, "DELETE", "/v1/clients/web", null).statusCode()).isIn(200, 204);
                assertThat(onNode(f, b, web, "GET", "/v1/whoami", null).statusCode()).isEqualTo(401);
            }
            f.stopServer();
            LocalKeyProvider kek = LocalKeyProvider.load(dir.resolve("kek.json"));
            for (String log : new String[] {"audit.log", "audit-b.log"}) {
                var verified = AuditVerifier.verify(dir.resolve(log), kek);
                assertThat(verified.ok()).as(log + ": " + verified.problem()).isTrue();
            }
            assertThat(Files.readString(dir.resolve("audit-b.log"))).contains("\"secret.read\"");
        }
    }
}
