package dev.tresor.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Tresor server (SQLite, real mTLS, a real audit log with its keyed chain) with a small estate
 * made through its API, and consoles started on it as real clients. Everything is closed with the rig.
 *
 * <p>The estate: group {@code ops} (the admin is a member) is granted {@code openemr/db/password} and
 * {@code openemr/api/token}; {@code billing/stripe/key} is granted to no group of the admin, so the
 * admin sees it but may not read its value; {@code intern} is a client in no group.
 */
final class UiRig implements AutoCloseable {

    static final String GRANTED = "openemr/db/password";
    static final String GRANTED_VALUE = "s3cr3t-mariadb-pass";
    static final String NOT_GRANTED = "billing/stripe/key";
    static final String EXPIRING = "openemr/api/token";

    private static final ObjectMapper JSON = new ObjectMapper();

    final ServerFixture server;
    final IssuedCert intern;
    private final List<TresorConsole> consoles = new ArrayList<>();

    UiRig(Path dir) {
        this.server = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
        admin("POST", "/v1/groups", "{\"name\":\"ops\"}", 201);
        admin("POST", "/v1/groups", "{\"name\":\"finance\"}", 201);
        admin("PUT", "/v1/groups/ops/clients/admin", "{\"role\":\"write\"}", 200);
        this.intern = client("intern");
        put(GRANTED, "first-version-value", "{\"ttl\":\"90d\",\"groups\":[\"ops\"]}");
        put(GRANTED, GRANTED_VALUE, "{\"ttl\":\"90d\"}");
        admin("POST", "/v1/secrets/" + GRANTED + "/labels", "{\"label\":\"stable\",\"version\":1}", 200);
        put(EXPIRING, "tok-123", "{\"ttl\":\"2d\",\"groups\":[\"ops\"]}");
        put(NOT_GRANTED, "sk_live_never_shown", "{\"groups\":[\"finance\"]}");
        put("mesh/ca/bundle", "-----BEGIN CERTIFICATE-----", "{\"groups\":[\"ops\"]}");
    }

    JsonNode admin(String method, String path, String body, int expected) {
        HttpResponse<String> reply = server.call(server.admin(), method, path, body);
        assertThat(reply.statusCode()).as(method + " " + path + ": " + reply.body()).isEqualTo(expected);
        return json(reply.body());
    }

    IssuedCert client(String name) {
        String identity = "spiffe://" + ServerFixture.TRUST_DOMAIN + "/ui-test/" + name;
        admin("POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}", 201);
        return server.pki().client(identity);
    }

    /** A new version written by the admin; {@code extra} is more JSON fields as an object ("{...}"). */
    void put(String name, String value, String extra) {
        String body = "{\"value\":\"" + value + "\"," + extra.substring(1);
        HttpResponse<String> reply = server.call(server.admin(), "PUT", "/v1/secrets/" + name, body);
        assertThat(reply.statusCode()).as("PUT " + name + ": " + reply.body()).isIn(200, 201);
    }

    /** The console's settings as {@code who}: the server's address, the identity's TLS, a management address. */
    ConsoleSettings settings(IssuedCert who) {
        return ConsoleSettings.local(URI.create("https://localhost:" + server.apiPort()), server.sslContext(who))
                .withManagement(List.of(server.management("/")));
    }

    /** The admin's console, with the audit chain checked against the server's own log and KEK. */
    TresorConsole adminConsole() {
        return start(settings(server.admin()).withAuditLog(server.auditFile(),
                LocalKeyProvider.load(server.dir().resolve("kek.json"))));
    }

    TresorConsole start(ConsoleSettings settings) {
        TresorConsole console = TresorConsole.start(settings);
        consoles.add(console);
        return console;
    }

    /** Audit records of {@code action} on {@code secret} with {@code outcome}. */
    long audited(String action, String secret, String outcome) {
        return server.auditLines().stream().map(UiRig::json)
                .filter(n -> action.equals(n.path("action").asText()) && secret.equals(n.path("secret").asText())
                        && outcome.equals(n.path("outcome").asText()))
                .count();
    }

    static JsonNode json(String text) {
        try {
            return text == null || text.isEmpty() ? null : JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        consoles.forEach(TresorConsole::close);
        consoles.clear();
        server.close();
    }
}
