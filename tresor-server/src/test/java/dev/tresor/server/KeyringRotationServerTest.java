package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code POST /v1/keys/rotate {"keyring": true}} on a running server: the fresh primary is there
 * when the request is answered, the background job re-wraps every data key and retires the older
 * key, reads go on; a rotation left unfinished is resumed by the next start.
 */
class KeyringRotationServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SECRETS = 30;

    @TempDir
    Path dir;

    private static void seed(ServerFixture f) {
        IssuedCert admin = f.admin();
        assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
        assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"write\"}").statusCode()).isEqualTo(200);
        for (int i = 0; i < SECRETS; i++) {
            assertThat(f.call(admin, "PUT", "/v1/secrets/app/s" + i, "{\"value\":\"v" + i + "\",\"groups\":[\"app\"]}")
                    .statusCode()).isEqualTo(201);
        }
    }

    private static void assertEveryValueReads(ServerFixture f) {
        for (int i = 0; i < SECRETS; i++) {
            HttpResponse<String> get = f.call(f.admin(), "GET", "/v1/secrets/app/s" + i, null);
            assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
            assertThat(get.body()).contains("\"value\":\"v" + i + "\"");
        }
    }

    /** The status once the background job has ended (bounded: the job has at most a few batches here). */
    private static JsonNode statusWhenSettled(ServerFixture f) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            JsonNode status = JSON.readTree(f.call(f.admin(), "GET", "/v1/keys/status", null).body());
            String phase = status.path("keyringRotation").path("phase").asText();
            if (!phase.equals("rewrapping") && !phase.equals("idle")) {
                return status;
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the keyring rotation did not end within 60 s: " + status);
            }
            Thread.sleep(50);
        }
    }

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void aKeyringRotationRewrapsEveryDataKeyInTheBackgroundAndRetiresTheOldKey(ServerFixture.StoreKind kind)
            throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            seed(f);
            IssuedCert admin = f.admin();
            String oldPrimary = JSON.readTree(f.call(admin, "GET", "/v1/keys/status", null).body()).get("primaryKeyId").asText();
            assertThat(f.call(admin, "POST", "/v1/keys/rotate", "{}").statusCode()).isEqualTo(400);
            assertThat(f.call(admin, "POST", "/v1/keys/rotate", "{\"kek\":true,\"keyring\":true}").statusCode()).isEqualTo(400);

            HttpResponse<String> begun = f.call(admin, "POST", "/v1/keys/rotate", "{\"keyring\":true}");
            assertThat(begun.statusCode()).as(begun.body()).isEqualTo(200);
            JsonNode answer = JSON.readTree(begun.body());
            String newPrimary = answer.get("primaryKeyId").asText();
            assertThat(newPrimary).isNotEqualTo(oldPrimary);
            assertThat(answer.get("previousPrimaryKeyId").asText()).isEqualTo(oldPrimary);
            assertThat(answer.get("toRewrap").asLong()).isEqualTo(SECRETS);
            assertEveryValueReads(f);

            JsonNode status = statusWhenSettled(f);
            assertThat(status.get("keyringRotation").get("phase").asText()).as(status.toString()).isEqualTo("done");
            assertThat(status.get("keyringRotation").get("rewrapped").asLong()).isEqualTo(SECRETS);
            assertThat(status.get("primaryKeyId").asText()).isEqualTo(newPrimary);
            assertThat(status.get("keys").asInt()).isEqualTo(1);
            String primaryId = newPrimary.substring("keyring:".length());
            assertThat(status.get("dataKeys").properties()).allSatisfy(e -> assertThat(e.getKey()).isEqualTo("keyring:" + primaryId));
            assertThat(status.get("dataKeys").get("keyring:" + primaryId).asLong()).isEqualTo(SECRETS);
            assertEveryValueReads(f);
            assertThat(f.auditLines()).anyMatch(l -> l.contains("\"key.rotate\"") && l.contains("keyring primary=" + newPrimary));

            f.stopServer();
            f.startServer();
            assertEveryValueReads(f);
        }
    }

    @ParameterizedTest
    @EnumSource(ServerFixture.StoreKind.class)
    void aRotationLeftUnfinishedIsResumedByTheNextStart(ServerFixture.StoreKind kind) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, kind)) {
            seed(f);
            // A node that added the primary and died before re-wrapping anything.
            f.server().tresor().keyringRotation().begin();
            f.stopServer();
            f.startServer();
            JsonNode status = statusWhenSettled(f);
            assertThat(status.get("keyringRotation").get("phase").asText()).as(status.toString()).isEqualTo("done");
            assertThat(status.get("keys").asInt()).isEqualTo(1);
            assertEveryValueReads(f);
            IssuedCert plain = f.pki().client("spiffe://tresor.test/plain");
            assertThat(f.call(f.admin(), "POST", "/v1/clients", "{\"name\":\"plain\",\"identity\":\"spiffe://tresor.test/plain\"}")
                    .statusCode()).isEqualTo(201);
            assertThat(f.call(plain, "POST", "/v1/keys/rotate", "{\"keyring\":true}").statusCode()).isEqualTo(403);
        }
    }
}
