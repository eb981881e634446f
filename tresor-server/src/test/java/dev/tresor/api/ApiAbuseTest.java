package dev.tresor.api;

import static dev.tresor.server.Replies.error;
import static dev.tresor.server.Replies.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.server.RawHttp;
import dev.tresor.server.Replies;
import dev.tresor.server.ServerFixture;
import dev.tresor.testkit.IssuedCert;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Client mistakes and hostile input against a real server: each gets a 4xx JSON error with a
 * message, nothing is stored, and nothing ever answers 5xx.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiAbuseTest {

    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    private ServerFixture f;
    private Path dir;
    private IssuedCert admin;
    private List<String> before;

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("tresor-api-abuse-");
        f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE);
        admin = f.admin();
        ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"app\"}"), 201);
        ok(f.call(admin, "PUT", "/v1/secrets/existing", "{\"value\":\"original\",\"groups\":[\"app\"]}"), 201);
    }

    @AfterAll
    void stop() throws IOException {
        f.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @BeforeEach
    void snapshot() {
        before = listing();
    }

    /** Every secret with its latest version, as admins see them. */
    private List<String> listing() {
        JsonNode secrets = ok(f.call(admin, "GET", "/v1/secrets", null), 200).get("secrets");
        List<String> out = new ArrayList<>();
        secrets.forEach(s -> out.add(s.get("name").asText() + "@" + s.get("latestVersion").asInt()
                + (s.get("deletedAt").isNull() ? "" : " deleted")));
        return out;
    }

    private void assertNothingStored() {
        assertThat(listing()).as("secrets after the refused request").isEqualTo(before);
    }

    private RawHttp.Reply raw(String method, String target, Map<String, String> headers, byte[] body) {
        return f.raw(admin, method, target, headers, body);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ size

    @Test
    void aBodyOverTheLimitIsRefused413AndNothingIsStored() {
        byte[] big = bytes("{\"value\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}");
        String message = error(raw("PUT", "/v1/secrets/big", JSON, big), 413);
        assertThat(message).contains("bytes");
        error(raw("PUT", "/v1/secrets/existing", JSON, big), 413);
        assertNothingStored();
    }

    @Test
    void aChunkedBodyOverTheLimitIsRefused413() {
        byte[] payload = bytes("{\"value\":\"" + "y".repeat(2 * 1024 * 1024) + "\"}");
        byte[] size = bytes(Integer.toHexString(payload.length) + "\r\n");
        byte[] tail = bytes("\r\n0\r\n\r\n");
        byte[] chunked = new byte[size.length + payload.length + tail.length];
        System.arraycopy(size, 0, chunked, 0, size.length);
        System.arraycopy(payload, 0, chunked, size.length, payload.length);
        System.arraycopy(tail, 0, chunked, size.length + payload.length, tail.length);
        Map<String, String> headers = new LinkedHashMap<>(JSON);
        headers.put("Transfer-Encoding", "chunked");
        error(raw("PUT", "/v1/secrets/big-chunked", headers, chunked), 413);
        assertNothingStored();
    }

    @Test
    void aValueOverOneMebibyteIsRefused413EvenInsideTheBodyLimit() {
        String message = error(f.call(admin, "PUT", "/v1/secrets/big-value",
                "{\"value\":\"" + "z".repeat(1024 * 1024 + 1) + "\"}"), 413);
        assertThat(message).contains("1048576");
        String b64 = java.util.Base64.getEncoder().encodeToString(new byte[1024 * 1024 + 1]);
        // Base64 of 1 MiB + 1 byte exceeds the body limit itself: refused from the declared length,
        // after the body has been read and discarded, so the client reliably reads the 413 rather
        // than a reset (it used to be answered and closed mid-upload).
        for (int i = 0; i < 5; i++) {
            error(f.call(admin, "PUT", "/v1/secrets/big-value", "{\"valueBase64\":\"" + b64 + "\"}"), 413);
        }
        assertNothingStored();
        // Exactly 1 MiB is accepted (the boundary), then removed again.
        ok(f.call(admin, "PUT", "/v1/secrets/exactly-1mib", "{\"value\":\"" + "z".repeat(1024 * 1024) + "\"}"), 201);
        ok(f.call(admin, "DELETE", "/v1/secrets/exactly-1mib?destroy=true", null), 200);
    }

    // ------------------------------------------------------------------ JSON

    static Stream<String> malformedBodies() {
        return Stream.of("", "{", "}", "nul", "null", "[]", "\"text\"", "42", "{\"value\":}", "{\"value\":\"x\",}",
                "{\"value\":\"x\"} {\"value\":\"y\"}", "{\"value\":\"x\"} trailing", "{'value':'x'}",
                "{\"value\":\"unterminated}", "{\"value\":\"x\",\"value\":\"y\"", "\u0000", "\uFEFF{\"value\":\"x\"}garbage",
                "[".repeat(5000) + "]".repeat(5000), "{\"a\":".repeat(100) + "1" + "}".repeat(100),
                "{\"value\":\"x\",\"cas\":99999999999999999999}", "{\"value\":\"x\",\"cas\":1e400}",
                "{\"value\":\"x\",\"cas\":" + "9".repeat(40) + "}");
    }

    @ParameterizedTest
    @MethodSource("malformedBodies")
    void malformedJsonIsRefused400WithAMessage(String body) {
        String message = error(raw("PUT", "/v1/secrets/malformed", JSON, bytes(body)), 400);
        assertThat(message).isNotBlank();
        error(raw("POST", "/v1/groups", JSON, bytes(body)), 400);
        error(raw("POST", "/v1/secrets/existing/labels", JSON, bytes(body)), 400);
        assertNothingStored();
    }

    @Test
    void invalidUtf8IsRefused400() {
        byte[] body = {'{', '"', 'v', 'a', 'l', 'u', 'e', '"', ':', '"', (byte) 0xff, (byte) 0xfe, '"', '}'};
        assertThat(error(raw("PUT", "/v1/secrets/bad-utf8", JSON, body), 400)).contains("UTF-8");
        assertNothingStored();
    }

    /** Finding 10: both used to be accepted (201), the first storing '?' in place of the character sent. */
    static Stream<Arguments> ambiguousBodies() {
        return Stream.of(
                Arguments.of("{\"value\":\"a\\ud800b\"}", "lone UTF-16 surrogate"),
                Arguments.of("{\"value\":\"\\udc00\"}", "lone UTF-16 surrogate"),
                Arguments.of("{\"value\":\"end\\ud83d\"}", "lone UTF-16 surrogate"),
                Arguments.of("{\"value\":\"x\",\"description\":\"\\ud800\"}", "'description'"),
                Arguments.of("{\"value\":\"x\",\"metadata\":{\"k\":\"\\udfff\"}}", "lone UTF-16 surrogate"),
                // In a field name Jackson's parser itself refuses the lone surrogate.
                Arguments.of("{\"value\":\"x\",\"metadata\":{\"\\ud800\":\"v\"}}", "malformed JSON"),
                Arguments.of("{\"value\":\"x\",\"value\":\"y\"}", "appears twice"),
                Arguments.of("{\"value\":\"x\",\"metadata\":{\"k\":\"1\",\"k\":\"2\"}}", "appears twice"));
    }

    @ParameterizedTest
    @MethodSource("ambiguousBodies")
    void loneSurrogatesAndDuplicateKeysAreRefused400(String body, String expected) {
        assertThat(error(raw("PUT", "/v1/secrets/ambiguous", JSON, bytes(body)), 400)).contains(expected);
        assertNothingStored();
    }

    @Test
    void aPairedSurrogateIsStoredAsItsCharacter() {
        ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"text\"}"), 201);
        ok(f.call(admin, "PUT", "/v1/groups/text/clients/admin", "{\"role\":\"read\"}"), 200);
        ok(f.call(admin, "PUT", "/v1/secrets/emoji", "{\"value\":\"key-\\ud83d\\udd11\",\"groups\":[\"text\"]}"), 201);
        JsonNode read = ok(f.call(admin, "GET", "/v1/secrets/emoji", null), 200);
        assertThat(read.get("value").asText()).isEqualTo("key-\uD83D\uDD11");
    }

    static Stream<Arguments> wrongTypes() {
        return Stream.of(
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":1}", "value"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":true}", "value"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":{\"a\":1}}", "value"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"cas\":\"1\"}", "cas"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"cas\":1.5}", "cas"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"groups\":\"app\"}", "groups"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"labels\":\"current\"}", "labels"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"metadata\":{\"a\":1}}", "metadata"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"metadata\":[]}", "metadata"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"ttl\":3600}", "ttl"),
                Arguments.of("/v1/secrets/typed", "PUT", "{\"value\":\"x\",\"bogus\":1}", "bogus"),
                Arguments.of("/v1/clients", "POST", "{\"name\":\"typed\",\"admin\":\"yes\"}", "admin"),
                Arguments.of("/v1/clients", "POST", "{\"name\":7}", "name"),
                Arguments.of("/v1/groups", "POST", "{\"name\":[\"a\"]}", "name"),
                Arguments.of("/v1/secrets/existing/labels", "POST", "{\"label\":\"current\",\"version\":\"1\"}", "version"),
                Arguments.of("/v1/groups/app/clients/admin", "PUT", "{\"role\":1}", "role"));
    }

    @ParameterizedTest
    @MethodSource("wrongTypes")
    void wrongTypesAndUnknownFieldsAreRefused400NamingTheField(String path, String method, String body, String field) {
        String message = error(raw(method, path, JSON, bytes(body)), 400);
        assertThat(message).contains("'" + field);
        assertNothingStored();
        JsonNode groups = ok(f.call(admin, "GET", "/v1/groups/app", null), 200);
        assertThat(groups.get("clients")).isEmpty();
        assertThat(ok(f.call(admin, "GET", "/v1/clients", null), 200).get("clients").findValuesAsText("name"))
                .containsExactly("admin");
    }

    @ParameterizedTest
    @ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x",
            "application/json; charset=iso-8859-1", "application/octet-stream", "json"})
    void bodiesThatAreNotUtf8JsonAreRefused415(String contentType) {
        byte[] body = bytes("{\"value\":\"typed\"}");
        String message = error(raw("PUT", "/v1/secrets/content-type", Map.of("Content-Type", contentType), body), 415);
        assertThat(message).contains("JSON");
        error(raw("POST", "/v1/groups", Map.of("Content-Type", contentType), bytes("{\"name\":\"ct\"}")), 415);
        assertNothingStored();
        error(f.call(admin, "GET", "/v1/groups/ct", null), 404);
    }

    @Test
    void jsonContentTypesWithParametersAreAccepted() {
        okRaw(raw("PUT", "/v1/secrets/ct-ok", Map.of("Content-Type", "application/json; charset=UTF-8"),
                bytes("{\"value\":\"v\"}")), 201);
        okRaw(raw("PUT", "/v1/secrets/ct-ok", Map.of("Content-Type", "application/merge-patch+json"),
                bytes("{\"value\":\"v2\"}")), 200);
        ok(f.call(admin, "DELETE", "/v1/secrets/ct-ok?destroy=true", null), 200);
    }

    private static JsonNode okRaw(RawHttp.Reply r, int status) {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        return Replies.json(r.text());
    }

    @Test
    void outOfRangeExpiryIsRefused400NotAServerError() {
        for (String body : List.of("{\"value\":\"x\",\"expiresAt\":\"+1000000000-12-31T23:59:59Z\"}",
                "{\"value\":\"x\",\"expiresAt\":\"-999999999-01-01T00:00:00Z\"}",
                "{\"value\":\"x\",\"expiresAt\":\"10000-01-01T00:00:00Z\"}",
                "{\"value\":\"x\",\"ttl\":\"999999999d\"}",
                "{\"value\":\"x\",\"ttl\":\"PT2562047788015215H\"}",
                "{\"value\":\"x\",\"ttl\":\"PT-1H\"}",
                "{\"value\":\"x\",\"ttl\":\"-5m\"}")) {
            error(raw("PUT", "/v1/secrets/expiry", JSON, bytes(body)), 400);
        }
        error(f.call(admin, "GET", "/v1/audit?since=PT2562047788015215H", null), 400);
        ok(f.call(admin, "GET", "/v1/audit?since=999999999d&limit=1", null), 200);
        assertNothingStored();
    }

    // ------------------------------------------------------------------ names and paths

    static Stream<String> trickyPaths() {
        return Stream.of(
                "/v1/secrets/a/../existing", "/v1/secrets/../secrets/existing", "/v1/secrets/..", "/v1/secrets/.",
                "/v1/secrets/./a", "/v1/secrets/a/.", "/v1/secrets/a//b", "/v1/secrets//a", "/v1/secrets/a/",
                "/v1/secrets/%2e%2e/existing", "/v1/secrets/%2E%2E/existing", "/v1/secrets/a%2fb", "/v1/secrets/a%2Fb",
                "/v1/secrets/%2fetc%2fpasswd", "/v1/secrets/a%00b", "/v1/secrets/a%20b", "/v1/secrets/%C3%A9",
                "/v1/secrets/a\\b", "/v1/secrets/..\\..\\etc", "/v1/secrets/a;b", "/v1/secrets/a;jsessionid=1",
                "/v1/secrets/a\u0000b", "/v1/secrets/a\u0001b", "/v1/secrets/a|b", "/v1/secrets/a:b", "/v1/secrets/~a",
                "/v1/secrets/a*", "/v1/secrets/a$b", "/v1/secrets/a'b", "/v1/secrets/a\"b", "/v1/secrets/a<b>",
                "/v1/secrets/a/versions", "/v1/secrets/a/b/labels", "/v1/secrets/a/restore",
                "/v1/secrets/" + "n".repeat(256), "/v1/secrets/" + "a/".repeat(127) + "bb",
                "/v1/secrets/" + "x".repeat(5000));
    }

    @ParameterizedTest
    @MethodSource("trickyPaths")
    void trickyNamesAreRefused400WithAMessageAndNothingIsStored(String path) {
        RawHttp.Reply put = raw("PUT", path, JSON, bytes("{\"value\":\"sneaky\"}"));
        String message = error(put, 400);
        assertThat(message).isNotBlank();
        if (!path.endsWith("/versions")) { // GET .../versions is the versions endpoint of "a"
            error(raw("GET", path, Map.of(), null), 400);
        }
        error(raw("DELETE", path, Map.of(), null), 400);
        assertNothingStored();
        assertThat(ok(f.call(admin, "GET", "/v1/secrets/existing/versions", null), 200).get("versions")).hasSize(1);
    }

    @Test
    void nameLimitsAreExact() {
        String longest = "n".repeat(255);
        ok(f.call(admin, "PUT", "/v1/secrets/" + longest, "{\"value\":\"v\"}"), 201);
        ok(f.call(admin, "DELETE", "/v1/secrets/" + longest + "?destroy=true", null), 200);
        assertThat(error(f.call(admin, "PUT", "/v1/secrets/" + longest + "n", "{\"value\":\"v\"}"), 400)).contains("255");
        ok(f.call(admin, "PUT", "/v1/secrets/a.b/c_d/e-f/.hidden/x..y", "{\"value\":\"v\"}"), 201);
        ok(f.call(admin, "DELETE", "/v1/secrets/a.b/c_d/e-f/.hidden/x..y?destroy=true", null), 200);
    }

    static Stream<String> trickyOtherNames() {
        return Stream.of("/v1/groups/..", "/v1/groups/a%2fb", "/v1/groups/" + "g".repeat(65), "/v1/groups/a\\b",
                "/v1/clients/..", "/v1/clients/a%20b", "/v1/clients/a;b", "/v1/groups/app/clients/..",
                "/v1/groups/app/secrets/a/../b", "/v1/groups/app/secrets/a//b", "/v1/groups/../secrets/existing");
    }

    @ParameterizedTest
    @MethodSource("trickyOtherNames")
    void trickyGroupAndClientNamesAreRefused400(String path) {
        error(raw("DELETE", path, Map.of(), null), 400);
        assertNothingStored();
        assertThat(ok(f.call(admin, "GET", "/v1/groups", null), 200).get("groups").findValuesAsText("name"))
                .containsExactly("app");
    }

    static Stream<String> unknownRoutes() {
        return Stream.of("/", "/index.html", "/v1", "/v1/", "/v2/secrets", "/V1/secrets", "/v1/nope", "/v1/secret",
                "/v1/whoami/extra", "/v1/groups/app/other", "/v1/groups/app/clients", "/v1/groups/app/clients/admin/x",
                "/v1/clients/admin/groups", "/v1/audit/x", "/v1/ca", "/v1/ca/sign/x", "/v1/ca/other", "/healthz",
                "/metrics", "/readyz", "/v1/../healthz");
    }

    @ParameterizedTest
    @MethodSource("unknownRoutes")
    void unknownRoutesAnswer404(String path) {
        error(raw("GET", path, Map.of(), null), 404);
    }

    static Stream<Arguments> wrongMethods() {
        return Stream.of(
                Arguments.of("POST", "/v1/whoami", "GET"),
                Arguments.of("DELETE", "/v1/whoami", "GET"),
                Arguments.of("PUT", "/v1/secrets", "GET"),
                Arguments.of("POST", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("PATCH", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("HEAD", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("OPTIONS", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("TRACE", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("BREW", "/v1/secrets/existing", "GET, PUT, DELETE"),
                Arguments.of("DELETE", "/v1/groups", "GET, POST"),
                Arguments.of("PUT", "/v1/groups/app", "GET, DELETE"),
                Arguments.of("GET", "/v1/groups/app/clients/admin", "PUT, DELETE"),
                Arguments.of("POST", "/v1/groups/app/secrets/existing", "PUT, DELETE"),
                Arguments.of("PUT", "/v1/clients", "GET, POST"),
                Arguments.of("POST", "/v1/clients/admin", "GET, DELETE"),
                Arguments.of("DELETE", "/v1/audit", "GET"),
                Arguments.of("GET", "/v1/ca/sign", "POST"));
    }

    @ParameterizedTest
    @MethodSource("wrongMethods")
    void wrongMethodsAnswer405WithAllow(String method, String path, String allow) {
        RawHttp.Reply r = raw(method, path, Map.of(), null);
        assertThat(r.status()).as(r.text()).isEqualTo(405);
        assertThat(r.header("Allow")).isEqualTo(allow);
        if (!method.equals("HEAD")) {
            assertThat(error(r, 405)).contains(method);
        }
        assertNothingStored();
    }

    // ------------------------------------------------------------------ HTTP-level mistakes

    @Test
    void httpLevelMistakesGetJsonErrorsWithRequestIds() {
        error(raw("POST", "/v1/groups", Map.of("Content-Type", "application/json", "Content-Length", "abc"), new byte[0]), 400);
        error(raw("GET", "/v1/whoami", Map.of("X-Padding", "p".repeat(20_000)), null), 431);
        error(raw("PUT", "/v1/secrets/a%", JSON, bytes("{\"value\":\"x\"}")), 400);
        error(raw("PUT", "/v1/secrets/a%zz", JSON, bytes("{\"value\":\"x\"}")), 400);
        error(raw("GET", "/v1/secrets/existing?version=%zz", Map.of(), null), 400);
        assertNothingStored();
    }

    @Test
    void badQueryParametersAre400() {
        for (String query : List.of("version=abc", "version=-1", "version=0", "version=1.5", "version=99999999999",
                "version=1&version=2", "label=a%20b", "label=" + "l".repeat(65), "allowExpired=perhaps",
                "version=1&label=current")) {
            ok(f.call(admin, "PUT", "/v1/groups/app/clients/admin", "{\"role\":\"read\"}"), 200);
            error(f.call(admin, "GET", "/v1/secrets/existing?" + query, null), 400);
        }
        ok(f.call(admin, "DELETE", "/v1/groups/app/clients/admin", null), 200);
        for (String query : List.of("limit=-5", "limit=100001", "limit=x", "limit=1&limit=2")) {
            error(f.call(admin, "GET", "/v1/secrets?" + query, null), 400);
            error(f.call(admin, "GET", "/v1/audit?" + query, null), 400);
        }
        error(f.call(admin, "DELETE", "/v1/secrets/existing?destroy=yes", null), 400);
        assertNothingStored();
    }

    @Test
    void oversizedOrForgedCertificateRequestsAre400() {
        String huge = "-----BEGIN CERTIFICATE REQUEST-----\\n" + "A".repeat(70_000) + "\\n-----END CERTIFICATE REQUEST-----\\n";
        error(f.call(admin, "POST", "/v1/ca/sign", "{\"csr\":\"" + huge + "\",\"identity\":\"spiffe://tresor.test/x\"}"), 400);
        error(f.call(admin, "POST", "/v1/ca/sign", "{\"csr\":\"not pem at all\",\"identity\":\"spiffe://tresor.test/x\"}"), 400);
        String cert = dev.tresor.testkit.TestPki.pem(f.pki().caCertificate()).replace("\n", "\\n");
        error(f.call(admin, "POST", "/v1/ca/sign", "{\"csr\":\"" + cert + "\",\"identity\":\"spiffe://tresor.test/x\"}"), 400);
    }

    // ------------------------------------------------------------------ fuzz

    /**
     * A seeded fuzzer: random methods, paths built from hostile fragments, random content types
     * and bodies mixing valid fields with junk. Whatever comes in, the answer is never a 5xx.
     */
    @Test
    @Order(Integer.MAX_VALUE - 1) // last but one: it may change any state
    void fuzzedRequestsNeverGetA5xx() {
        Random random = new Random(20261201L);
        String[] methods = {"GET", "PUT", "POST", "DELETE", "PATCH"};
        String[] heads = {"/v1/secrets/", "/v1/groups/", "/v1/clients/", "/v1/audit", "/v1/ca/sign", "/v1/whoami",
                "/v1/groups/app/clients/", "/v1/groups/app/secrets/", "/v1/secrets/existing/", "/v1/"};
        String[] fragments = {"a", "..", ".", "", "%2e", "%2f", "%", "existing", "labels", "versions", "restore",
                "app", "admin", "x".repeat(300), ";", "\\", "~", "é", "?version=", "?label=", "?limit=", "?since=",
                "?destroy=true", "&allowExpired=1", "-1", "0", "99999999999", "PT-1S", "%zz", "//"};
        String[] fields = {"value", "valueBase64", "description", "expiresAt", "ttl", "groups", "metadata", "cas",
                "labels", "label", "version", "name", "identity", "admin", "role", "csr", "junk"};
        String[] values = {"\"v\"", "1", "-1", "0", "1.5", "true", "null", "[]", "{}", "[\"app\"]", "[null]",
                "{\"k\":\"v\"}", "\"1h\"", "\"-1h\"", "\"2099-01-01T00:00:00Z\"", "\"PT99999999999H\"", "\"write\"",
                "\"spiffe://tresor.test/x\"", "\"%s\"", "\"\\u0000\"", "99999999999999999999", "\"" + "q".repeat(2000) + "\""};
        String[] types = {"application/json", "text/plain", null, "application/json; charset=utf-16"};
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            String method = methods[random.nextInt(methods.length)];
            StringBuilder path = new StringBuilder(heads[random.nextInt(heads.length)]);
            for (int j = random.nextInt(4); j > 0; j--) {
                path.append(fragments[random.nextInt(fragments.length)]);
                if (random.nextBoolean()) {
                    path.append('/');
                }
            }
            String target = path.toString().replace("é", "%C3%A9");
            StringBuilder body = new StringBuilder("{");
            for (int j = random.nextInt(4); j > 0; j--) {
                if (body.length() > 1) {
                    body.append(',');
                }
                body.append('"').append(fields[random.nextInt(fields.length)]).append("\":")
                        .append(values[random.nextInt(values.length)]);
            }
            body.append(random.nextInt(10) == 0 ? "" : "}");
            Map<String, String> headers = new LinkedHashMap<>();
            String type = types[random.nextInt(types.length)];
            if (type != null) {
                headers.put("Content-Type", type);
            }
            if (random.nextInt(5) == 0) {
                headers.put("Accept", "application/octet-stream");
            }
            boolean withBody = !method.equals("GET") && random.nextInt(4) != 0;
            RawHttp.Reply r = raw(method, target, headers, withBody ? bytes(body.toString()) : null);
            seen.add(r.status() + " " + method + " " + target);
            assertThat(r.status()).as("%s %s %s -> %s", method, target, body, r.text()).isLessThan(500);
            if (r.status() >= 400) {
                error(r, r.status());
            }
        }
        assertThat(seen).anyMatch(s -> s.startsWith("400")).anyMatch(s -> s.startsWith("404"))
                .anyMatch(s -> s.startsWith("405"));
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void theServerStillServesNormallyAfterAllThat() {
        ok(f.call(admin, "POST", "/v1/groups", "{\"name\":\"after-fuzz\"}"), 201);
        ok(f.call(admin, "PUT", "/v1/groups/after-fuzz/clients/admin", "{\"role\":\"read\"}"), 200);
        ok(f.call(admin, "PUT", "/v1/secrets/after/fuzz", "{\"value\":\"fine\",\"groups\":[\"after-fuzz\"]}"), 201);
        assertThat(ok(f.call(admin, "GET", "/v1/secrets/after/fuzz", null), 200).get("value").asText()).isEqualTo("fine");
        HttpResponse<String> health = f.management("GET", "/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        HttpRequest request = HttpRequest.newBuilder(f.api("/v1/whoami")).GET().build();
        assertThat(f.send(admin, request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
}
