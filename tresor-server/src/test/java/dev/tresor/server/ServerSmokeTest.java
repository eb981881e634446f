package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.testkit.IssuedCert;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerSmokeTest {

    @TempDir
    Path dir;

    @Test
    void adminCreatesSecretAndAppReadsIt() {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            IssuedCert admin = f.admin();
            assertThat(f.call(admin, "GET", "/v1/whoami", null).statusCode()).isEqualTo(200);
            assertThat(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}").statusCode()).isEqualTo(201);
            HttpResponse<String> put = f.call(admin, "PUT", "/v1/secrets/db/password", "{\"value\":\"s3cret\",\"groups\":[\"app\"]}");
            assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
            assertThat(f.call(admin, "POST", "/v1/clients", "{\"name\":\"app1\",\"identity\":\"spiffe://tresor.test/ns/a/sa/app1\"}").statusCode()).isEqualTo(201);
            assertThat(f.call(admin, "PUT", "/v1/groups/app/clients/app1", "{\"role\":\"read\"}").statusCode()).isEqualTo(200);
            IssuedCert app = f.pki().client("spiffe://tresor.test/ns/a/sa/app1");
            HttpResponse<String> get = f.call(app, "GET", "/v1/secrets/db/password", null);
            assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
            assertThat(get.body()).contains("\"value\":\"s3cret\"");
            assertThat(f.call(admin, "GET", "/v1/secrets/db/password", null).statusCode()).isEqualTo(403);
        }
    }
}
