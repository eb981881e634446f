package dev.tresor.api;

import static dev.tresor.server.Replies.error;
import static dev.tresor.server.Replies.fields;
import static dev.tresor.server.Replies.ok;
import static dev.tresor.server.Replies.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.server.RawHttp;
import dev.tresor.server.ServerFixture;
import dev.tresor.server.ServerFixture.StoreKind;
import dev.tresor.testkit.IssuedCert;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The API of SPEC §3.1 over real mutual TLS, on a real server with each store: every endpoint,
 * its JSON field names and status codes, and its error paths. One server per store; each test
 * works in its own names so tests do not see each other's rows.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(StoreKind.class)
class ApiContractTest {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final String TD = ServerFixture.TRUST_DOMAIN;

    private static ServerFixture f;
    private static Path dir;

    @Parameter
    StoreKind kind;

    private IssuedCert admin;
    private String ns;

    @BeforeParameterizedClassInvocation
    static void startServer(StoreKind kind) throws IOException {
        dir = Files.createTempDirectory("tresor-api-contract-");
        f = ServerFixture.start(dir, kind);
    }

    @AfterParameterizedClassInvocation
    static void stopServer() {
        if (f != null) {
            f.close();
            f = null;
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (dir != null && Files.exists(dir)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @BeforeEach
    void names() {
        admin = f.admin();
        ns = "t" + COUNTER.incrementAndGet();
    }

    // ------------------------------------------------------------------ helpers

    private HttpResponse<String> call(IssuedCert who, String method, String path, String body) {
        return f.call(who, method, path, body);
    }

    private String group(String suffix) {
        String name = ns + "-" + suffix;
        ok(call(admin, "POST", "/v1/groups", "{\"name\":\"" + name + "\"}"), 201);
        return name;
    }

    /** Registers a client (not admin) and returns its certificate. */
    private IssuedCert client(String suffix) {
        String name = ns + "-" + suffix;
        String identity = "spiffe://" + TD + "/ns/" + ns + "/sa/" + suffix;
        ok(call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}"), 201);
        return f.pki().client(identity);
    }

    private String clientName(String suffix) {
        return ns + "-" + suffix;
    }

    private void member(String group, String clientSuffix, String role) {
        ok(call(admin, "PUT", "/v1/groups/" + group + "/clients/" + clientName(clientSuffix), "{\"role\":\"" + role + "\"}"), 200);
    }

    private JsonNode put(IssuedCert who, String name, String body, int status) {
        return ok(call(who, "PUT", "/v1/secrets/" + name, body), status);
    }

    private static String str(String s) {
        return "\"" + s + "\"";
    }

    /** A secret {@code ns/suffix} with one version, granted to a new group that {@code reader} reads through. */
    private record Shared(String name, String group, IssuedCert reader) {}

    private Shared shared(String suffix, String value) {
        String g = group("g-" + suffix);
        String name = ns + "/" + suffix;
        put(admin, name, "{\"value\":" + str(value) + ",\"groups\":[" + str(g) + "]}", 201);
        IssuedCert reader = client("r-" + suffix);
        member(g, "r-" + suffix, "read");
        return new Shared(name, g, reader);
    }

    // ------------------------------------------------------------------ whoami

    @Test
    void whoamiReturnsTheCallersRecordAndGroups() {
        JsonNode me = ok(call(admin, "GET", "/v1/whoami", null), 200);
        assertThat(fields(me)).containsExactlyInAnyOrder("name", "identity", "admin", "enabled", "groups", "createdAt",
                "createdBy", "intact");
        assertThat(me.get("name").asText()).isEqualTo("admin");
        assertThat(me.get("identity").asText()).isEqualTo(ServerFixture.ADMIN_IDENTITY);
        assertThat(me.get("admin").asBoolean()).isTrue();

        String g = group("team");
        IssuedCert app = client("app");
        member(g, "app", "write");
        JsonNode app1 = ok(call(app, "GET", "/v1/whoami", null), 200);
        assertThat(app1.get("name").asText()).isEqualTo(clientName("app"));
        assertThat(app1.get("admin").asBoolean()).isFalse();
        assertThat(app1.get("groups")).hasSize(1);
        assertThat(fields(app1.get("groups").get(0))).containsExactly("group", "role");
        assertThat(app1.get("groups").get(0).get("group").asText()).isEqualTo(g);
        assertThat(app1.get("groups").get(0).get("role").asText()).isEqualTo("write");
    }

    @Test
    void aValidCertificateOfAnUnknownIdentityGets401() {
        IssuedCert stranger = f.pki().client("spiffe://" + TD + "/ns/" + ns + "/sa/stranger");
        error(call(stranger, "GET", "/v1/whoami", null), 401);
        error(call(stranger, "GET", "/v1/secrets", null), 401);
        error(call(stranger, "PUT", "/v1/secrets/" + ns + "/x", "{\"value\":\"v\"}"), 401);
        assertThat(ok(call(admin, "GET", "/v1/secrets?prefix=" + ns, null), 200).get("secrets")).isEmpty();
    }

    // ------------------------------------------------------------------ put and get

    @Test
    void putCreatesVersionOneWith201AndLaterVersionsWith200() {
        String g = group("g");
        String name = ns + "/db/password";
        JsonNode v1 = put(admin, name, "{\"value\":\"one\",\"groups\":[" + str(g) + "],\"description\":\"db\"}", 201);
        assertThat(fields(v1)).containsExactlyInAnyOrder("name", "version", "createdAt", "expiresAt", "labels");
        assertThat(v1.get("name").asText()).isEqualTo(name);
        assertThat(v1.get("version").asInt()).isEqualTo(1);
        assertThat(v1.get("expiresAt").isNull()).isTrue();
        assertThat(texts(v1.get("labels"))).containsExactly("current");
        Instant.parse(v1.get("createdAt").asText());

        JsonNode v2 = put(admin, name, "{\"value\":\"two\"}", 200);
        assertThat(v2.get("version").asInt()).isEqualTo(2);
        assertThat(texts(v2.get("labels"))).containsExactly("current");
    }

    @Test
    void getReturnsTheCurrentVersionWithTheSpecifiedFields() {
        Shared s = shared("s", "s3cret-value");
        HttpResponse<String> r = call(s.reader(), "GET", "/v1/secrets/" + s.name(), null);
        JsonNode v = ok(r, 200);
        assertThat(fields(v)).containsExactlyInAnyOrder("name", "version", "value", "encoding", "createdAt", "expiresAt", "labels");
        assertThat(v.get("name").asText()).isEqualTo(s.name());
        assertThat(v.get("version").asInt()).isEqualTo(1);
        assertThat(v.get("value").asText()).isEqualTo("s3cret-value");
        assertThat(v.get("encoding").asText()).isEqualTo("utf-8");
        assertThat(v.get("expiresAt").isNull()).isTrue();
        assertThat(texts(v.get("labels"))).containsExactly("current");
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(r.headers().firstValue("X-Request-Id").orElseThrow()).matches("[0-9a-f]{16}");
    }

    @Test
    void octetStreamAcceptReturnsTheRawBytesAndBinaryValuesAreBase64InJson() {
        String g = group("g");
        String name = ns + "/bin";
        byte[] raw = {0, 1, 2, (byte) 0xff, (byte) 0xfe, 'x', '\n'};
        put(admin, name, "{\"valueBase64\":" + str(Base64.getEncoder().encodeToString(raw)) + ",\"groups\":[" + str(g) + "]}", 201);
        IssuedCert reader = client("r");
        member(g, "r", "read");

        JsonNode v = ok(call(reader, "GET", "/v1/secrets/" + name, null), 200);
        assertThat(v.get("encoding").asText()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(v.get("value").asText())).isEqualTo(raw);

        HttpResponse<byte[]> bytes = f.send(reader, HttpRequest.newBuilder(f.api("/v1/secrets/" + name))
                .header("Accept", "application/octet-stream").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(bytes.statusCode()).isEqualTo(200);
        assertThat(bytes.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(bytes.body()).isEqualTo(raw);

        // Text values come back byte for byte too, and unicode survives JSON both ways.
        String textName = ns + "/text";
        put(admin, textName, "{\"value\":\"gr\\u00fc\\u00dfe \\u2603\",\"groups\":[" + str(g) + "]}", 201);
        HttpResponse<byte[]> text = f.send(reader, HttpRequest.newBuilder(f.api("/v1/secrets/" + textName))
                .header("Accept", "application/octet-stream").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(new String(text.body(), StandardCharsets.UTF_8)).isEqualTo("grüße ☃");
        assertThat(ok(call(reader, "GET", "/v1/secrets/" + textName, null), 200).get("value").asText()).isEqualTo("grüße ☃");

        // An error is JSON even when raw bytes were asked for.
        HttpResponse<String> missing = f.send(reader, HttpRequest.newBuilder(f.api("/v1/secrets/" + ns + "/nope"))
                .header("Accept", "application/octet-stream").GET().build(), HttpResponse.BodyHandlers.ofString());
        error(missing, 403);
    }

    @Test
    void versionAndLabelSelectorsPickOtherVersions() {
        Shared s = shared("s", "v1");
        put(admin, s.name(), "{\"value\":\"v2\"}", 200);
        put(admin, s.name(), "{\"value\":\"v3\",\"labels\":[\"pending\"]}", 200);
        String base = "/v1/secrets/" + s.name();

        assertThat(ok(call(s.reader(), "GET", base, null), 200).get("value").asText()).isEqualTo("v2");
        JsonNode first = ok(call(s.reader(), "GET", base + "?version=1", null), 200);
        assertThat(first.get("value").asText()).isEqualTo("v1");
        assertThat(first.get("version").asInt()).isEqualTo(1);
        assertThat(texts(first.get("labels"))).containsExactly("previous");
        assertThat(ok(call(s.reader(), "GET", base + "?label=previous", null), 200).get("value").asText()).isEqualTo("v1");
        JsonNode pending = ok(call(s.reader(), "GET", base + "?label=pending", null), 200);
        assertThat(pending.get("value").asText()).isEqualTo("v3");
        assertThat(pending.get("version").asInt()).isEqualTo(3);

        error(call(s.reader(), "GET", base + "?version=9", null), 404);
        error(call(s.reader(), "GET", base + "?label=nope", null), 404);
        error(call(s.reader(), "GET", base + "?version=1&label=current", null), 400);
        error(call(s.reader(), "GET", base + "?version=0", null), 400);
        error(call(s.reader(), "GET", base + "?version=abc", null), 400);
        error(call(s.reader(), "GET", base + "?label=bad%20label", null), 400);
    }

    @Test
    void versionsListsMetadataWithoutValues() {
        Shared s = shared("s", "first-value");
        put(admin, s.name(), "{\"value\":\"second-value\",\"metadata\":{\"rotatedBy\":\"job\"}}", 200);
        HttpResponse<String> r = call(s.reader(), "GET", "/v1/secrets/" + s.name() + "/versions", null);
        JsonNode body = ok(r, 200);
        assertThat(fields(body)).containsExactly("name", "versions");
        assertThat(body.get("name").asText()).isEqualTo(s.name());
        assertThat(body.get("versions")).hasSize(2);
        JsonNode v2 = body.get("versions").get(1);
        assertThat(fields(v2)).containsExactlyInAnyOrder("version", "createdAt", "createdBy", "expiresAt", "labels",
                "metadata", "destroyed", "expired");
        assertThat(v2.get("version").asInt()).isEqualTo(2);
        assertThat(v2.get("createdBy").asText()).isEqualTo("admin");
        assertThat(v2.get("metadata").get("rotatedBy").asText()).isEqualTo("job");
        assertThat(texts(v2.get("labels"))).containsExactly("current");
        assertThat(texts(body.get("versions").get(0).get("labels"))).containsExactly("previous");
        assertThat(r.body()).doesNotContain("first-value").doesNotContain("second-value");

        ok(call(admin, "GET", "/v1/secrets/" + s.name() + "/versions", null), 200);
        IssuedCert outsider = client("outsider");
        error(call(outsider, "GET", "/v1/secrets/" + s.name() + "/versions", null), 403);
        error(call(admin, "GET", "/v1/secrets/" + ns + "/missing/versions", null), 404);
    }

    @Test
    void anExpiredVersionAnswers410UnlessAllowExpired() {
        String g = group("g");
        String name = ns + "/short";
        JsonNode created = put(admin, name, "{\"value\":\"brief\",\"ttl\":\"1h\",\"groups\":[" + str(g) + "]}", 201);
        Instant expiresAt = Instant.parse(created.get("expiresAt").asText());
        Instant createdAt = Instant.parse(created.get("createdAt").asText());
        // expiresAt = the request's clock reading + 1h; createdAt is the store's own reading a moment later.
        assertThat(Duration.between(createdAt, expiresAt)).isBetween(Duration.ofMinutes(59), Duration.ofHours(1));
        String fixed = ns + "/fixed";
        String at = Instant.now().plus(Duration.ofDays(3)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        assertThat(put(admin, fixed, "{\"value\":\"x\",\"expiresAt\":" + str(at) + "}", 201).get("expiresAt").asText())
                .isEqualTo(at);
        IssuedCert reader = client("r");
        member(g, "r", "read");
        assertThat(ok(call(reader, "GET", "/v1/secrets/" + name, null), 200).get("expiresAt").asText())
                .isEqualTo(expiresAt.toString());

        f.clock().advance(Duration.ofHours(2));
        try {
            String message = error(call(reader, "GET", "/v1/secrets/" + name, null), 410);
            assertThat(message).contains("expired").doesNotContain("brief");
            JsonNode anyway = ok(call(reader, "GET", "/v1/secrets/" + name + "?allowExpired=true", null), 200);
            assertThat(anyway.get("value").asText()).isEqualTo("brief");
            JsonNode versions = ok(call(reader, "GET", "/v1/secrets/" + name + "/versions", null), 200);
            assertThat(versions.get("versions").get(0).get("expired").asBoolean()).isTrue();
            // A new version without expiry is readable again.
            put(admin, name, "{\"value\":\"lasting\"}", 200);
            assertThat(ok(call(reader, "GET", "/v1/secrets/" + name, null), 200).get("value").asText()).isEqualTo("lasting");
        } finally {
            f.clock().advance(Duration.ofHours(-2));
        }
    }

    @Test
    void putRefusesBadExpiryAndBadValues() {
        String name = ns + "/bad";
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"ttl\":\"1h\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"expiresAt\":\"tomorrow\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"ttl\":\"0s\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"ttl\":\"soon\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"valueBase64\":\"eA==\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"description\":\"no value\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"valueBase64\":\"not base64!\"}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"groups\":[\"no-such-group-" + ns + "\"]}"), 404);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"labels\":[\"current\",\"current\"]}"), 400);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"x\",\"labels\":[\"bad label\"]}"), 400);
        error(call(admin, "GET", "/v1/secrets/" + name + "/versions", null), 404);
    }

    // ------------------------------------------------------------------ roles, cas and labels

    @Test
    void readMembersAndStrangersCannotWrite() {
        Shared s = shared("s", "v1");
        String message = error(call(s.reader(), "PUT", "/v1/secrets/" + s.name(), "{\"value\":\"hijack\"}"), 403);
        assertThat(message).contains("write");
        error(call(s.reader(), "POST", "/v1/secrets/" + s.name() + "/labels", "{\"label\":\"current\",\"version\":1}"), 403);
        IssuedCert outsider = client("outsider");
        error(call(outsider, "PUT", "/v1/secrets/" + s.name(), "{\"value\":\"hijack\"}"), 403);
        error(call(outsider, "GET", "/v1/secrets/" + s.name(), null), 403);
        // Non-admins cannot create secrets, and "not yours" looks like "does not exist".
        String notYours = error(call(outsider, "GET", "/v1/secrets/" + s.name(), null), 403);
        String missing = error(call(outsider, "GET", "/v1/secrets/" + ns + "/never-was", null), 403);
        assertThat(notYours.replace(s.name(), "N")).isEqualTo(missing.replace(ns + "/never-was", "N"));
        error(call(s.reader(), "PUT", "/v1/secrets/" + ns + "/new", "{\"value\":\"x\"}"), 403);
        assertThat(ok(call(s.reader(), "GET", "/v1/secrets/" + s.name(), null), 200).get("version").asInt()).isEqualTo(1);
    }

    @Test
    void writeMembersAddVersionsWithCasAndMoveLabelsButNotGroups() {
        String g = group("g");
        String other = group("other");
        String name = ns + "/rotated";
        put(admin, name, "{\"value\":\"v1\",\"groups\":[" + str(g) + "]}", 201);
        IssuedCert rotator = client("rotator");
        member(g, "rotator", "write");

        JsonNode v2 = put(rotator, name, "{\"value\":\"v2\",\"cas\":1,\"labels\":[\"pending\"]}", 200);
        assertThat(v2.get("version").asInt()).isEqualTo(2);
        assertThat(texts(v2.get("labels"))).containsExactly("pending");
        error(call(rotator, "PUT", "/v1/secrets/" + name, "{\"value\":\"v3\",\"cas\":2}"), 409);

        JsonNode moved = ok(call(rotator, "POST", "/v1/secrets/" + name + "/labels", "{\"label\":\"current\",\"version\":2,\"cas\":1}"), 200);
        assertThat(fields(moved)).containsExactlyInAnyOrder("name", "description", "groups", "labels", "currentVersion",
                "latestVersion", "createdAt", "createdBy", "updatedAt", "deletedAt", "destroyed");
        assertThat(moved.get("currentVersion").asInt()).isEqualTo(2);
        assertThat(moved.get("labels").get("current").asInt()).isEqualTo(2);
        assertThat(moved.get("labels").get("previous").asInt()).isEqualTo(1);
        assertThat(moved.get("labels").has("pending")).isFalse();
        assertThat(ok(call(rotator, "GET", "/v1/secrets/" + name, null), 200).get("value").asText()).isEqualTo("v2");

        String groupsMessage = error(call(rotator, "PUT", "/v1/secrets/" + name,
                "{\"value\":\"v3\",\"groups\":[" + str(g) + "," + str(other) + "]}"), 403);
        assertThat(groupsMessage).contains("admin");
        error(call(rotator, "PUT", "/v1/secrets/" + name, "{\"value\":\"v3\",\"groups\":[" + str(g) + "]}"), 403);
        error(call(rotator, "DELETE", "/v1/secrets/" + name, null), 403);
        error(call(rotator, "PUT", "/v1/groups/" + other + "/secrets/" + name, null), 403);
        error(call(rotator, "PUT", "/v1/secrets/" + ns + "/brand-new", "{\"value\":\"x\"}"), 403);
        JsonNode versions = ok(call(admin, "GET", "/v1/secrets/" + name + "/versions", null), 200);
        assertThat(versions.get("versions")).hasSize(2);
        assertThat(versions.get("versions").get(1).get("createdBy").asText()).isEqualTo(clientName("rotator"));
        JsonNode meta = ok(call(admin, "GET", "/v1/secrets?prefix=" + name, null), 200).get("secrets").get(0);
        assertThat(texts(meta.get("groups"))).containsExactly(g);
    }

    @Test
    void casMismatchesAnswer409AndChangeNothing() {
        String name = ns + "/cas";
        put(admin, name, "{\"value\":\"v1\",\"cas\":0}", 201);
        error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"again\",\"cas\":0}"), 409);
        put(admin, name, "{\"value\":\"v2\",\"cas\":1}", 200);
        String message = error(call(admin, "PUT", "/v1/secrets/" + name, "{\"value\":\"stale\",\"cas\":1}"), 409);
        assertThat(message).contains("cas");
        error(call(admin, "PUT", "/v1/secrets/" + ns + "/absent", "{\"value\":\"x\",\"cas\":3}"), 409);
        error(call(admin, "POST", "/v1/secrets/" + name + "/labels", "{\"label\":\"current\",\"version\":1,\"cas\":1}"), 409);
        JsonNode versions = ok(call(admin, "GET", "/v1/secrets/" + name + "/versions", null), 200);
        assertThat(versions.get("versions")).hasSize(2);
        assertThat(texts(versions.get("versions").get(1).get("labels"))).containsExactly("current");
        error(call(admin, "GET", "/v1/secrets/" + ns + "/absent/versions", null), 404);
    }

    /** Racing writers with the same cas: exactly one wins, every other one gets 409, none a 5xx. */
    @Test
    void concurrentCasWritersGetExactlyOneWinnerAndConflicts() throws Exception {
        String name = ns + "/raced";
        List<Integer> creates = race(8, i -> "{\"value\":\"create-" + i + "\",\"cas\":0}", name);
        assertThat(creates).as("statuses of racing creates").containsOnly(201, 409);
        assertThat(creates).filteredOn(s -> s == 201).hasSize(1);

        List<Integer> updates = race(8, i -> "{\"value\":\"update-" + i + "\",\"cas\":1}", name);
        assertThat(updates).as("statuses of racing updates").containsOnly(200, 409);
        assertThat(updates).filteredOn(s -> s == 200).hasSize(1);

        List<Integer> blind = race(6, i -> "{\"value\":\"blind-" + i + "\"}", name);
        assertThat(blind).as("racing writes without cas all land").containsOnly(200);
        JsonNode versions = ok(call(admin, "GET", "/v1/secrets/" + name + "/versions", null), 200).get("versions");
        assertThat(versions.findValuesAsText("version")).containsExactly("1", "2", "3", "4", "5", "6", "7", "8");
    }

    private List<Integer> race(int writers, java.util.function.IntFunction<String> body, String name) throws Exception {
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
        for (int i = 0; i < writers; i++) {
            HttpRequest request = HttpRequest.newBuilder(f.api("/v1/secrets/" + name)).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body.apply(i))).build();
            all.add(f.client(admin).sendAsync(request, HttpResponse.BodyHandlers.ofString()));
        }
        List<Integer> statuses = new java.util.ArrayList<>();
        for (var future : all) {
            HttpResponse<String> r = future.get();
            if (r.statusCode() >= 400) {
                error(r, r.statusCode());
            }
            statuses.add(r.statusCode());
        }
        return statuses;
    }

    @Test
    void labelsMoveBetweenVersions() {
        Shared s = shared("s", "v1");
        put(admin, s.name(), "{\"value\":\"v2\"}", 200);
        String labels = "/v1/secrets/" + s.name() + "/labels";
        JsonNode pending = ok(call(admin, "POST", labels, "{\"label\":\"pending\",\"version\":1}"), 200);
        assertThat(pending.get("labels").get("pending").asInt()).isEqualTo(1);
        assertThat(ok(call(s.reader(), "GET", "/v1/secrets/" + s.name() + "?label=pending", null), 200).get("value").asText())
                .isEqualTo("v1");
        JsonNode back = ok(call(admin, "POST", labels, "{\"label\":\"current\",\"version\":1}"), 200);
        assertThat(back.get("labels").get("current").asInt()).isEqualTo(1);
        assertThat(back.get("labels").get("previous").asInt()).isEqualTo(2);
        assertThat(ok(call(s.reader(), "GET", "/v1/secrets/" + s.name(), null), 200).get("value").asText()).isEqualTo("v1");

        error(call(admin, "POST", labels, "{\"label\":\"current\",\"version\":7}"), 404);
        error(call(admin, "POST", labels, "{\"label\":\"bad label\",\"version\":1}"), 400);
        error(call(admin, "POST", labels, "{\"label\":\"current\"}"), 400);
        error(call(admin, "POST", labels, "{\"version\":1}"), 400);
        error(call(admin, "POST", labels, "{\"label\":\"current\",\"version\":1,\"colour\":\"red\"}"), 400);
        error(call(admin, "POST", "/v1/secrets/" + ns + "/missing/labels", "{\"label\":\"current\",\"version\":1}"), 404);
    }

    // ------------------------------------------------------------------ delete, restore, destroy

    @Test
    void softDeleteHidesTheSecretUntilRestored() {
        Shared s = shared("s", "keep-me");
        String path = "/v1/secrets/" + s.name();
        error(call(s.reader(), "DELETE", path, null), 403);

        JsonNode deleted = ok(call(admin, "DELETE", path, null), 200);
        assertThat(deleted.get("deletedAt").isNull()).isFalse();
        assertThat(deleted.get("destroyed").asBoolean()).isFalse();
        error(call(s.reader(), "GET", path, null), 403);
        assertThat(ok(call(s.reader(), "GET", "/v1/secrets?prefix=" + ns, null), 200).get("secrets")).isEmpty();
        error(call(admin, "GET", path, null), 404);
        JsonNode adminList = ok(call(admin, "GET", "/v1/secrets?prefix=" + ns, null), 200).get("secrets");
        assertThat(adminList).hasSize(1);
        assertThat(adminList.get(0).get("deletedAt").isNull()).isFalse();
        error(call(admin, "DELETE", path, null), 409);
        error(call(admin, "PUT", path, "{\"value\":\"while deleted\"}"), 409);
        error(call(s.reader(), "POST", path + "/restore", null), 403);

        JsonNode restored = ok(call(admin, "POST", path + "/restore", null), 200);
        assertThat(restored.get("deletedAt").isNull()).isTrue();
        assertThat(ok(call(s.reader(), "GET", path, null), 200).get("value").asText()).isEqualTo("keep-me");
        error(call(admin, "POST", path + "/restore", null), 409);
        error(call(admin, "DELETE", "/v1/secrets/" + ns + "/missing", null), 404);
        error(call(admin, "POST", "/v1/secrets/" + ns + "/missing/restore", null), 404);
    }

    @Test
    void destroyErasesEveryVersionForGood() {
        Shared s = shared("s", "erase-me");
        String path = "/v1/secrets/" + s.name();
        put(admin, s.name(), "{\"value\":\"erase-me-too\"}", 200);
        error(call(s.reader(), "DELETE", path + "?destroy=true", null), 403);
        JsonNode destroyed = ok(call(admin, "DELETE", path + "?destroy=true", null), 200);
        assertThat(destroyed.get("destroyed").asBoolean()).isTrue();
        assertThat(destroyed.get("deletedAt").isNull()).isFalse();

        JsonNode versions = ok(call(admin, "GET", path + "/versions", null), 200).get("versions");
        assertThat(versions).hasSize(2);
        versions.forEach(v -> assertThat(v.get("destroyed").asBoolean()).isTrue());
        error(call(admin, "POST", path + "/restore", null), 409);
        error(call(s.reader(), "GET", path, null), 403);
        error(call(s.reader(), "GET", path + "?version=1", null), 403);
        error(call(admin, "DELETE", path + "?destroy=maybe", null), 400);
    }

    // ------------------------------------------------------------------ listing

    @Test
    void listingShowsOnlyWhatTheCallerMayReadAndAdminsSeeAllMetadata() {
        Shared a = shared("a", "value-a");
        String g2 = group("g-b");
        String b = ns + "/b";
        put(admin, b, "{\"value\":\"value-b\",\"groups\":[" + str(g2) + "]}", 201);
        String c = ns + "/c";
        put(admin, c, "{\"value\":\"value-c\"}", 201);

        HttpResponse<String> readerList = call(a.reader(), "GET", "/v1/secrets", null);
        JsonNode body = ok(readerList, 200);
        assertThat(fields(body)).containsExactly("next", "secrets");
        List<String> names = body.get("secrets").findValuesAsText("name");
        assertThat(names).containsExactly(a.name());
        JsonNode meta = body.get("secrets").get(0);
        assertThat(fields(meta)).containsExactlyInAnyOrder("name", "description", "groups", "labels", "currentVersion",
                "latestVersion", "createdAt", "createdBy", "updatedAt", "deletedAt", "destroyed");
        assertThat(readerList.body()).doesNotContain("value-a").doesNotContain("\"value\"");

        IssuedCert loner = client("loner");
        assertThat(ok(call(loner, "GET", "/v1/secrets", null), 200).get("secrets")).isEmpty();

        HttpResponse<String> adminList = call(admin, "GET", "/v1/secrets?prefix=" + ns + "/", null);
        assertThat(ok(adminList, 200).get("secrets").findValuesAsText("name")).containsExactly(a.name(), b, c);
        assertThat(adminList.body()).doesNotContain("value-a").doesNotContain("value-b").doesNotContain("value-c");

        JsonNode page = ok(call(admin, "GET", "/v1/secrets?prefix=" + ns + "/&limit=2", null), 200);
        assertThat(page.get("secrets").findValuesAsText("name")).containsExactly(a.name(), b);
        assertThat(page.get("next").asText()).isEqualTo(b);
        JsonNode rest = ok(call(admin, "GET", "/v1/secrets?prefix=" + ns + "/&limit=2&after=" + b, null), 200);
        assertThat(rest.get("secrets").findValuesAsText("name")).containsExactly(c);
        assertThat(rest.get("next").isNull()).isTrue();
        error(call(admin, "GET", "/v1/secrets?limit=0", null), 400);
        error(call(admin, "GET", "/v1/secrets?limit=lots", null), 400);
    }

    @Test
    void adminsReadValuesOnlyThroughAGroup() {
        String name = ns + "/admin-only";
        put(admin, name, "{\"value\":\"not for admins\"}", 201);
        String message = error(call(admin, "GET", "/v1/secrets/" + name, null), 403);
        assertThat(message).doesNotContain("not for admins");
        String g = group("admins");
        ok(call(admin, "PUT", "/v1/groups/" + g + "/clients/admin", "{\"role\":\"read\"}"), 200);
        ok(call(admin, "PUT", "/v1/groups/" + g + "/secrets/" + name, null), 200);
        assertThat(ok(call(admin, "GET", "/v1/secrets/" + name, null), 200).get("value").asText()).isEqualTo("not for admins");
        ok(call(admin, "DELETE", "/v1/groups/" + g + "/clients/admin", null), 200);
        error(call(admin, "GET", "/v1/secrets/" + name, null), 403);
    }

    // ------------------------------------------------------------------ groups, clients, grants

    @Test
    void groupsAreManagedByAdmins() {
        String name = ns + "-ops";
        HttpResponse<String> created = call(admin, "POST", "/v1/groups", "{\"name\":\"" + name + "\",\"description\":\"operators\"}");
        JsonNode g = ok(created, 201);
        assertThat(fields(g)).containsExactlyInAnyOrder("name", "description", "createdAt", "createdBy", "intact", "clients", "secrets");
        assertThat(g.get("name").asText()).isEqualTo(name);
        assertThat(g.get("description").asText()).isEqualTo("operators");
        assertThat(g.get("createdBy").asText()).isEqualTo("admin");
        assertThat(g.get("intact").asBoolean()).isTrue();

        JsonNode list = ok(call(admin, "GET", "/v1/groups", null), 200);
        assertThat(fields(list)).containsExactly("groups");
        assertThat(list.get("groups").findValuesAsText("name")).contains(name);

        error(call(admin, "POST", "/v1/groups", "{\"name\":\"" + name + "\"}"), 409);
        error(call(admin, "POST", "/v1/groups", "{\"name\":\"bad name\"}"), 400);
        error(call(admin, "POST", "/v1/groups", "{\"description\":\"nameless\"}"), 400);
        error(call(admin, "POST", "/v1/groups", "{\"name\":\"" + "g".repeat(65) + "\"}"), 400);

        IssuedCert member = client("m");
        member(name, "m", "read");
        error(call(member, "GET", "/v1/groups", null), 403);
        error(call(member, "POST", "/v1/groups", "{\"name\":\"" + ns + "-mine\"}"), 403);
        error(call(member, "DELETE", "/v1/groups/" + name, null), 403);

        String secret = ns + "/in-group";
        put(admin, secret, "{\"value\":\"x\",\"groups\":[" + str(name) + "]}", 201);
        JsonNode one = ok(call(admin, "GET", "/v1/groups/" + name, null), 200);
        assertThat(texts(one.get("secrets"))).containsExactly(secret);
        assertThat(one.get("clients")).hasSize(1);
        assertThat(fields(one.get("clients").get(0))).containsExactly("client", "role");
        assertThat(one.get("clients").get(0).get("client").asText()).isEqualTo(clientName("m"));
        assertThat(one.get("clients").get(0).get("role").asText()).isEqualTo("read");

        assertThat(ok(call(admin, "DELETE", "/v1/groups/" + name, null), 200).get("deleted").asText()).isEqualTo(name);
        error(call(member, "GET", "/v1/secrets/" + secret, null), 403);
        error(call(admin, "DELETE", "/v1/groups/" + name, null), 404);
        error(call(admin, "GET", "/v1/groups/" + name, null), 404);
    }

    @Test
    void membershipsGiveAndTakeAccess() {
        Shared s = shared("s", "shared-value");
        IssuedCert late = client("late");
        error(call(late, "GET", "/v1/secrets/" + s.name(), null), 403);

        JsonNode added = ok(call(admin, "PUT", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), "{\"role\":\"read\"}"), 200);
        assertThat(fields(added)).containsExactlyInAnyOrder("group", "client", "role");
        assertThat(added.get("role").asText()).isEqualTo("read");
        assertThat(ok(call(late, "GET", "/v1/secrets/" + s.name(), null), 200).get("value").asText()).isEqualTo("shared-value");

        JsonNode defaulted = ok(call(admin, "PUT", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), null), 200);
        assertThat(defaulted.get("role").asText()).isEqualTo("read");
        error(call(admin, "PUT", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), "{\"role\":\"owner\"}"), 400);
        error(call(admin, "PUT", "/v1/groups/" + s.group() + "/clients/" + ns + "-nobody", "{\"role\":\"read\"}"), 404);
        error(call(admin, "PUT", "/v1/groups/" + ns + "-nogroup/clients/" + clientName("late"), "{\"role\":\"read\"}"), 404);
        error(call(s.reader(), "PUT", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), "{\"role\":\"write\"}"), 403);

        JsonNode removed = ok(call(admin, "DELETE", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), null), 200);
        assertThat(removed.get("removed").asBoolean()).isTrue();
        error(call(late, "GET", "/v1/secrets/" + s.name(), null), 403);
        error(call(admin, "DELETE", "/v1/groups/" + s.group() + "/clients/" + clientName("late"), null), 404);
        assertThat(ok(call(late, "GET", "/v1/whoami", null), 200).get("groups")).isEmpty();
    }

    @Test
    void grantsGiveAGroupAccessToASecret() {
        String g = group("g");
        String name = ns + "/nested/deep/secret";
        put(admin, name, "{\"value\":\"deep\"}", 201);
        IssuedCert reader = client("r");
        member(g, "r", "read");
        error(call(reader, "GET", "/v1/secrets/" + name, null), 403);

        JsonNode granted = ok(call(admin, "PUT", "/v1/groups/" + g + "/secrets/" + name, null), 200);
        assertThat(fields(granted)).containsExactlyInAnyOrder("group", "secret", "granted");
        assertThat(granted.get("secret").asText()).isEqualTo(name);
        assertThat(ok(call(reader, "GET", "/v1/secrets/" + name, null), 200).get("value").asText()).isEqualTo("deep");
        assertThat(ok(call(reader, "GET", "/v1/secrets", null), 200).get("secrets").findValuesAsText("name")).containsExactly(name);

        JsonNode revoked = ok(call(admin, "DELETE", "/v1/groups/" + g + "/secrets/" + name, null), 200);
        assertThat(revoked.get("revoked").asBoolean()).isTrue();
        error(call(reader, "GET", "/v1/secrets/" + name, null), 403);
        error(call(admin, "DELETE", "/v1/groups/" + g + "/secrets/" + name, null), 404);
        error(call(admin, "PUT", "/v1/groups/" + g + "/secrets/" + ns + "/missing", null), 404);
        error(call(admin, "PUT", "/v1/groups/" + ns + "-nogroup/secrets/" + name, null), 404);
        error(call(reader, "PUT", "/v1/groups/" + g + "/secrets/" + name, null), 403);
    }

    @Test
    void clientsAreManagedByAdmins() {
        String name = ns + "-svc";
        String identity = "spiffe://" + TD + "/ns/" + ns + "/sa/svc";
        JsonNode created = ok(call(admin, "POST", "/v1/clients",
                "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\",\"admin\":false}"), 201);
        assertThat(fields(created)).containsExactlyInAnyOrder("name", "identity", "admin", "enabled", "groups", "createdAt",
                "createdBy", "intact");
        assertThat(created.get("identity").asText()).isEqualTo(identity);
        assertThat(created.get("admin").asBoolean()).isFalse();
        assertThat(created.get("enabled").asBoolean()).isTrue();

        JsonNode list = ok(call(admin, "GET", "/v1/clients", null), 200);
        assertThat(fields(list)).containsExactly("clients");
        assertThat(list.get("clients").findValuesAsText("name")).contains("admin", name);
        assertThat(ok(call(admin, "GET", "/v1/clients/" + name, null), 200).get("identity").asText()).isEqualTo(identity);

        error(call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"spiffe://" + TD + "/other\"}"), 409);
        error(call(admin, "POST", "/v1/clients", "{\"name\":\"" + ns + "-twin\",\"identity\":\"" + identity + "\"}"), 409);
        error(call(admin, "POST", "/v1/clients", "{\"name\":\"bad name\",\"identity\":\"spiffe://" + TD + "/x\"}"), 400);
        error(call(admin, "POST", "/v1/clients", "{\"identity\":\"spiffe://" + TD + "/x\"}"), 400);
        error(call(admin, "POST", "/v1/clients", "{\"name\":\"" + ns + "-weird\",\"identity\":\"spiffe://\"}"), 400);
        error(call(admin, "POST", "/v1/clients", "{\"name\":\"" + ns + "-x\",\"admin\":\"yes\"}"), 400);

        IssuedCert svc = f.pki().client(identity);
        ok(call(svc, "GET", "/v1/whoami", null), 200);
        error(call(svc, "GET", "/v1/clients", null), 403);
        error(call(svc, "POST", "/v1/clients", "{\"name\":\"" + ns + "-evil\",\"admin\":true}"), 403);
        error(call(svc, "DELETE", "/v1/clients/admin", null), 403);

        // A second admin can do admin things; nobody can delete themselves.
        String boss = ns + "-boss";
        String bossId = "spiffe://" + TD + "/ns/" + ns + "/sa/boss";
        assertThat(ok(call(admin, "POST", "/v1/clients", "{\"name\":\"" + boss + "\",\"identity\":\"" + bossId + "\",\"admin\":true}"), 201)
                .get("admin").asBoolean()).isTrue();
        IssuedCert bossCert = f.pki().client(bossId);
        ok(call(bossCert, "GET", "/v1/clients", null), 200);
        error(call(bossCert, "DELETE", "/v1/clients/" + boss, null), 409);
        ok(call(admin, "DELETE", "/v1/clients/" + boss, null), 200);
        error(call(bossCert, "GET", "/v1/clients", null), 401);

        assertThat(ok(call(admin, "DELETE", "/v1/clients/" + name, null), 200).get("deleted").asText()).isEqualTo(name);
        error(call(svc, "GET", "/v1/whoami", null), 401);
        error(call(admin, "DELETE", "/v1/clients/" + name, null), 404);
        error(call(admin, "GET", "/v1/clients/" + name, null), 404);
    }

    // ------------------------------------------------------------------ audit

    @Test
    void adminsReadTheAuditLogWithFilters() {
        Shared s = shared("s", "audited-value");
        HttpResponse<String> read = call(s.reader(), "GET", "/v1/secrets/" + s.name(), null);
        ok(read, 200);
        IssuedCert outsider = client("outsider");
        HttpResponse<String> denied = call(outsider, "GET", "/v1/secrets/" + s.name(), null);
        error(denied, 403);

        HttpResponse<String> r = call(admin, "GET", "/v1/audit?secret=" + s.name(), null);
        JsonNode body = ok(r, 200);
        assertThat(fields(body)).containsExactlyInAnyOrder("records", "next");
        assertThat(body.get("next").isNull()).as("the whole answer fits: no older page").isTrue();
        assertThat(r.body()).doesNotContain("audited-value");
        JsonNode records = body.get("records");
        assertThat(records).hasSizeGreaterThanOrEqualTo(3); // the create, the read, the denial
        // On PostgreSQL (several nodes possible) each record also names the node that wrote it.
        List<String> expected = new java.util.ArrayList<>(List.of("seq", "time", "requestId", "client", "action", "secret",
                "version", "outcome", "status", "source", "detail"));
        if (kind == StoreKind.POSTGRESQL) {
            expected.add("node");
        }
        records.forEach(rec -> {
            assertThat(fields(rec)).containsExactlyInAnyOrderElementsOf(expected);
            if (kind == StoreKind.POSTGRESQL) {
                assertThat(rec.get("node").asText()).isEqualTo(f.server().nodeId());
            }
            assertThat(rec.get("secret").asText()).isEqualTo(s.name());
        });
        JsonNode allowed = find(records, read.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(allowed.get("client").asText()).isEqualTo(clientName("r-s"));
        assertThat(allowed.get("action").asText()).isEqualTo("secret.read");
        assertThat(allowed.get("outcome").asText()).isEqualTo("allowed");
        assertThat(allowed.get("status").asInt()).isEqualTo(200);
        assertThat(allowed.get("version").asInt()).isEqualTo(1);
        assertThat(allowed.get("source").asText()).isEqualTo("127.0.0.1");
        JsonNode refused = find(records, denied.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(refused.get("client").asText()).isEqualTo(clientName("outsider"));
        assertThat(refused.get("outcome").asText()).isEqualTo("denied");
        assertThat(refused.get("status").asInt()).isEqualTo(403);

        JsonNode byClient = ok(call(admin, "GET", "/v1/audit?client=" + clientName("outsider"), null), 200).get("records");
        assertThat(byClient).isNotEmpty();
        byClient.forEach(rec -> assertThat(rec.get("client").asText()).isEqualTo(clientName("outsider")));
        JsonNode newest = ok(call(admin, "GET", "/v1/audit?secret=" + s.name() + "&limit=1", null), 200);
        assertThat(newest.get("records")).hasSize(1);
        // Paging backwards with the cursor visits every record once, oldest last.
        List<Long> paged = new java.util.ArrayList<>();
        JsonNode page = newest;
        while (true) {
            paged.addFirst(page.get("records").get(0).get("seq").asLong());
            if (page.get("next").isNull()) {
                break;
            }
            page = ok(call(admin, "GET", "/v1/audit?secret=" + s.name() + "&limit=1&before=" + page.get("next").asLong(),
                    null), 200);
        }
        List<Long> all = new java.util.ArrayList<>();
        records.forEach(rec -> all.add(rec.get("seq").asLong()));
        assertThat(paged).isEqualTo(all);
        error(call(admin, "GET", "/v1/audit?before=-1", null), 400);
        error(call(admin, "GET", "/v1/audit?until=tomorrow", null), 400);
        // Ranges: after the first record only the later ones; nothing before the year 2000.
        JsonNode later = ok(call(admin, "GET", "/v1/audit?secret=" + s.name() + "&after=" + all.getFirst(), null), 200)
                .get("records");
        List<Long> laterSeqs = new java.util.ArrayList<>();
        later.forEach(rec -> laterSeqs.add(rec.get("seq").asLong()));
        assertThat(laterSeqs).isEqualTo(all.subList(1, all.size()));
        assertThat(ok(call(admin, "GET", "/v1/audit?until=2000-01-01T00:00:00Z", null), 200).get("records")).isEmpty();
        error(call(admin, "GET", "/v1/audit?before=soon", null), 400);
        assertThat(ok(call(admin, "GET", "/v1/audit?secret=" + s.name() + "&since=2999-01-01T00:00:00Z", null), 200)
                .get("records")).isEmpty();
        assertThat(ok(call(admin, "GET", "/v1/audit?secret=" + s.name() + "&since=1h", null), 200).get("records"))
                .hasSameSizeAs(records);
        error(call(s.reader(), "GET", "/v1/audit", null), 403);
        error(call(admin, "GET", "/v1/audit?limit=0", null), 400);
        error(call(admin, "GET", "/v1/audit?since=yesterday", null), 400);
    }

    private static JsonNode find(JsonNode records, String requestId) {
        for (JsonNode rec : records) {
            if (requestId.equals(rec.get("requestId").asText()) && !"intent".equals(rec.get("outcome").asText())) {
                return rec;
            }
        }
        throw new AssertionError("no audit record with request id " + requestId + " in " + records);
    }

    // ------------------------------------------------------------------ CA

    @Test
    void adminsHaveCertificatesIssuedForClientsWithinTheTtlLimits() throws Exception {
        KeyPair keys = ecKeys();
        String name = clientName("issued");
        String identity = "spiffe://" + TD + "/ns/" + ns + "/sa/issued";
        ok(call(admin, "POST", "/v1/clients", "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}"), 201);
        HttpResponse<String> first = call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"csr\":" + jsonString(csr(keys)) + "}");
        JsonNode signed = ok(first, 201);
        assertThat(fields(signed)).containsExactlyInAnyOrder("client", "identity", "certificate", "chain", "ca", "serial",
                "notAfter", "reissue");
        assertThat(signed.get("identity").asText()).isEqualTo(identity);
        assertThat(signed.get("reissue").asBoolean()).isFalse();
        X509Certificate cert = parse(signed.get("certificate").asText());
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(6, identity));
        assertThat(cert.getSerialNumber().toString(16)).isEqualTo(signed.get("serial").asText());
        assertThat(Instant.parse(signed.get("notAfter").asText())).isEqualTo(cert.getNotAfter().toInstant());
        assertThat(parse(signed.get("ca").asText())).isEqualTo(f.issuerCa());
        cert.verify(f.issuerCa().getPublicKey());
        // Default TTL 24h (notBefore is back-dated by the CA's 5 minutes of clock-skew allowance).
        assertThat(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofHours(24).plusMinutes(5));
        IssuedCert issued = new IssuedCert(cert, keys.getPrivate(), f.issuerCa());
        assertThat(ok(call(issued, "GET", "/v1/whoami", null), 200).get("identity").asText()).isEqualTo(identity);

        // The audit record names what was issued.
        JsonNode record = find(ok(call(admin, "GET", "/v1/audit?limit=10000", null), 200).get("records"),
                first.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(record.get("action").asText()).isEqualTo("ca.sign");
        assertThat(record.get("detail").asText()).contains("client=" + name, "identity=" + identity,
                "serial=" + signed.get("serial").asText(), "notAfter=" + cert.getNotAfter().toInstant());

        // Later certificates are re-issues, asked for as such.
        JsonNode shortLived = ok(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"reissue\":true,\"csr\":"
                + jsonString(csr(ecKeys())) + ",\"ttl\":\"1h\"}"), 201);
        assertThat(shortLived.get("reissue").asBoolean()).isTrue();
        X509Certificate hour = parse(shortLived.get("certificate").asText());
        assertThat(Duration.between(hour.getNotBefore().toInstant(), hour.getNotAfter().toInstant()))
                .isEqualTo(Duration.ofHours(1).plusMinutes(5));
        JsonNode longest = ok(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"reissue\":true,\"csr\":"
                + jsonString(csr(ecKeys())) + ",\"ttl\":\"7d\"}"), 201);
        assertThat(longest.get("serial").asText()).isNotEqualTo(shortLived.get("serial").asText());

        String good = jsonString(csr(ecKeys()));
        String client = "\"client\":\"" + name + "\",\"reissue\":true";
        String message = error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + good + ",\"ttl\":\"8d\"}"), 400);
        assertThat(message).contains("7d");
        error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + good + ",\"ttl\":\"0s\"}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + good + ",\"ttl\":\"forever\"}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\"}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{\"csr\":" + good + "}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n\"}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + jsonString(tamperedCsr(ecKeys())) + "}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + good + ",\"extra\":1}"), 400);
        error(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + ns + "-nobody\",\"csr\":" + good + "}"), 404);

        IssuedCert plain = client("plain");
        error(call(plain, "POST", "/v1/ca/sign", "{" + client + ",\"csr\":" + good + "}"), 403);
    }

    /**
     * Issue 22, finding 3: the CA used to sign any identity an admin named, including an existing
     * client's, so an admin could read values as that client, audited under the victim's name.
     */
    @Test
    void anAdminCannotQuietlyIssueAnotherClientsIdentity() throws Exception {
        Shared s = shared("victim", "victims-value");
        String victimIdentity = "spiffe://" + TD + "/ns/" + ns + "/sa/r-victim";
        String good = jsonString(csr(ecKeys()));
        // Naming an identity is no longer possible: the certificate gets the client's own.
        error(call(admin, "POST", "/v1/ca/sign", "{\"identity\":\"" + victimIdentity + "\",\"csr\":" + good + "}"), 400);
        // The victim got its first certificate when it was created (here: out of band); the CA then issues one more
        // only as an explicit re-issue, which the audit log names as such, with identity and serial.
        ok(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + clientName("r-victim") + "\",\"csr\":" + good + "}"), 201);
        String refusal = error(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + clientName("r-victim") + "\",\"csr\":"
                + jsonString(csr(ecKeys())) + "}"), 409);
        assertThat(refusal).contains("already has a certificate", "reissue");
        HttpResponse<String> reissue = call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + clientName("r-victim")
                + "\",\"reissue\":true,\"csr\":" + jsonString(csr(ecKeys())) + "}");
        JsonNode reissued = ok(reissue, 201);
        JsonNode record = find(ok(call(admin, "GET", "/v1/audit?limit=10000", null), 200).get("records"),
                reissue.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(record.get("action").asText()).isEqualTo("ca.reissue");
        assertThat(record.get("client").asText()).isNotEqualTo(clientName("r-victim"));
        assertThat(record.get("detail").asText()).contains("identity=" + victimIdentity, "serial=" + reissued.get("serial").asText());
    }

    /**
     * Issue 22, finding 6: a deleted client's certificate worked again once a client with the same
     * identity was created again.
     */
    @Test
    void aDeletedClientsCertificateStaysRefusedWhenItsIdentityComesBack() throws Exception {
        String name = clientName("returning");
        String identity = "spiffe://" + TD + "/ns/" + ns + "/sa/returning";
        String create = "{\"name\":\"" + name + "\",\"identity\":\"" + identity + "\"}";
        ok(call(admin, "POST", "/v1/clients", create), 201);
        KeyPair oldKeys = ecKeys();
        X509Certificate oldCert = parse(ok(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"csr\":"
                + jsonString(csr(oldKeys)) + "}"), 201).get("certificate").asText());
        IssuedCert old = new IssuedCert(oldCert, oldKeys.getPrivate(), f.issuerCa());
        ok(call(old, "GET", "/v1/whoami", null), 200);

        ok(call(admin, "DELETE", "/v1/clients/" + name, null), 200);
        error(call(old, "GET", "/v1/whoami", null), 401);
        ok(call(admin, "POST", "/v1/clients", create), 201);
        String refused = error(call(old, "GET", "/v1/whoami", null), 401);
        assertThat(refused).contains("retired");
        // The test PKI's certificates for that identity were issued before the retirement too.
        error(call(f.pki().client(identity), "GET", "/v1/whoami", null), 401);

        KeyPair newKeys = ecKeys();
        X509Certificate newCert = parse(ok(call(admin, "POST", "/v1/ca/sign", "{\"client\":\"" + name + "\",\"csr\":"
                + jsonString(csr(newKeys)) + "}"), 201).get("certificate").asText());
        assertThat(ok(call(new IssuedCert(newCert, newKeys.getPrivate(), f.issuerCa()), "GET", "/v1/whoami", null), 200)
                .get("name").asText()).isEqualTo(name);
        error(call(old, "GET", "/v1/whoami", null), 401);
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static byte[] csrDer(KeyPair keys) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=requested-by-test"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static String csr(KeyPair keys) throws Exception {
        return pem("CERTIFICATE REQUEST", csrDer(keys));
    }

    /** A CSR whose signed content was changed after signing (the last byte of the embedded key's point). */
    private static String tamperedCsr(KeyPair keys) throws Exception {
        byte[] der = csrDer(keys);
        byte[] spki = keys.getPublic().getEncoded();
        int at = indexOf(der, spki) + spki.length - 1;
        der[at] ^= 0x01;
        return pem("CERTIFICATE REQUEST", der);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }

    private static String jsonString(String s) throws IOException {
        return dev.tresor.server.Replies.JSON.writeValueAsString(s);
    }

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    // ------------------------------------------------------------------ error shape

    @Test
    void everyErrorIsJsonWithARequestIdAndNoInternals() {
        RawHttp.Reply notFound = f.raw(admin, "GET", "/v1/nothing-here", Map.of(), null);
        error(notFound, 404);
        RawHttp.Reply notAllowed = f.raw(admin, "PATCH", "/v1/secrets", Map.of(), null);
        error(notAllowed, 405);
        assertThat(notAllowed.header("Allow")).isEqualTo("GET");
        RawHttp.Reply unsupported = f.raw(admin, "POST", "/v1/groups", Map.of("Content-Type", "text/plain"),
                "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8));
        error(unsupported, 415);
        error(call(admin, "POST", "/v1/groups", "{\"name\":"), 400);
    }
}
