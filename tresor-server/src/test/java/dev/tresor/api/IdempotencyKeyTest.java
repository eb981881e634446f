package dev.tresor.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code Idempotency-Key} on {@code PUT /v1/secrets/{name}}: a retried write is answered with the
 * version the first try made and writes nothing; the same key with another body, or by another
 * client, is refused (422); a malformed key is a 400; keys are forgotten after 24 h.
 */
class IdempotencyKeyTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static HttpResponse<String> put(ServerFixture f, IssuedCert who, String name, String key, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(f.api("/v1/secrets/" + name)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return f.send(who, request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void aRetriedWriteIsAnsweredOnceAndWritesNothing(ServerFixture.StoreKind kind) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            IssuedCert admin = f.admin();
            assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            String first = "{\"value\":\"one\",\"groups\":[\"app\"]}";

            HttpResponse<String> created = put(f, admin, "db/pw", "try-1", first);
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            assertThat(json(created).get("version").asInt()).isEqualTo(1);
            assertThat(json(created).has("replayed")).isFalse();

            HttpResponse<String> again = put(f, admin, "db/pw", "try-1", first);
            assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
            assertThat(json(again).get("version").asInt()).isEqualTo(1);
            assertThat(json(again).get("createdAt")).isEqualTo(json(created).get("createdAt"));
            assertThat(json(again).get("labels")).isEqualTo(json(created).get("labels"));
            assertThat(json(again).get("replayed").asBoolean()).isTrue();

            String second = "{\"value\":\"two\"}";
            HttpResponse<String> other = put(f, admin, "db/pw", "try-1", second);
            assertThat(other.statusCode()).as(other.body()).isEqualTo(422);
            assertThat(json(other).get("error").asText()).contains("was used for another request");

            HttpResponse<String> v2 = put(f, admin, "db/pw", "try-2", second);
            assertThat(v2.statusCode()).isEqualTo(200);
            assertThat(json(v2).get("version").asInt()).isEqualTo(2);
            assertThat(json(put(f, admin, "db/pw", "try-2", second)).get("version").asInt()).isEqualTo(2);
            JsonNode versions = JSON.readTree(f.call(admin, "GET", "/v1/secrets/db/pw/versions", null).body());
            assertThat(versions.toString()).doesNotContain("\"version\":3");

            // The same key on another secret is another write.
            assertThat(put(f, admin, "db/other", "try-1", first).statusCode()).isEqualTo(201);

            // Another client with the same key on the same secret is refused, not answered with the admin's version.
            assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"w\",\"identity\":\"spiffe://tresor.test/w\"}")
                    .statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/w", "{\"role\":\"write\"}").statusCode()).isEqualTo(200);
            IssuedCert writer = f.pki().client("spiffe://tresor.test/w");
            HttpResponse<String> stolen = put(f, writer, "db/pw", "try-2", second);
            assertThat(stolen.statusCode()).as(stolen.body()).isEqualTo(422);
            assertThat(json(stolen).get("error").asText()).contains("was used by another write");

            assertThat(put(f, admin, "db/pw", "bad key", second).statusCode()).isEqualTo(400);
            assertThat(put(f, admin, "db/pw", "x".repeat(129), second).statusCode()).isEqualTo(400);

            // After 24 h the key is forgotten: the same request is a new write.
            f.clock().advance(Duration.ofHours(25));
            HttpResponse<String> later = put(f, admin, "db/pw", "try-2", second);
            assertThat(later.statusCode()).isEqualTo(200);
            assertThat(json(later).get("version").asInt()).isEqualTo(3);
        }
    }
}
