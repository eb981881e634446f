package dev.tresor.mount;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The few /v1 calls a mount makes, as the mounting client. Every call is bounded by the request
 * timeout (connect and answer), so a dead or stuck server turns into an {@link ApiFailure} the
 * filesystem answers with EIO, never a blocked kernel request.
 */
final class SecretsApi implements AutoCloseable {

    private static final String USER_AGENT = "tresor-mount";
    private static final int PAGE = 1000;

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;
    private final ObjectMapper json = new ObjectMapper();
    private final ValueReader values;

    SecretsApi(MountSettings settings) {
        this.base = settings.server();
        this.timeout = settings.requestTimeout();
        this.values = new ValueReader(settings);
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(settings.tls())
                .connectTimeout(settings.requestTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    URI base() {
        return base;
    }

    /** Every secret the caller may read, following {@code next} across pages; deleted and destroyed ones left out. */
    List<SecretEntry> list() throws ApiFailure {
        List<SecretEntry> all = new ArrayList<>();
        String after = null;
        do {
            String query = "limit=" + PAGE + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
            JsonNode page = getJson("secrets", query, timeout);
            for (JsonNode s : page.path("secrets")) {
                if (!s.path("deletedAt").isNull() && !s.path("deletedAt").isMissingNode() || s.path("destroyed").asBoolean(false)) {
                    continue;
                }
                JsonNode current = s.path("currentVersion");
                Instant updated = parseInstant(s.path("updatedAt").asText(null));
                all.add(new SecretEntry(s.path("name").asText(),
                        current.isNumber() ? current.intValue() : null, s.path("latestVersion").asInt(0), updated));
            }
            JsonNode next = page.path("next");
            after = next.isTextual() ? next.asText() : null;
        } while (after != null);
        return all;
    }

    /**
     * One audited read of a version's bytes ({@code Accept: application/octet-stream}, so the value
     * is not wrapped in JSON that would need decoding into more copies), on {@link ValueReader}'s
     * raw keep-alive connections. The caller owns the array and zeroes it when done.
     */
    byte[] read(String name, int version) throws ApiFailure {
        return values.read(name, version);
    }

    /** The change feed's answer: the next cursor, whether anything concerning the caller happened, and if more is queued. */
    record WatchReply(String cursor, int changes, boolean more) {}

    /** {@code GET /v1/watch[?since=&wait=]}: a 404 means this server has no feed; 410 means re-list and start over. */
    WatchReply watch(String since, Duration wait) throws ApiFailure {
        String query = since == null ? null : "since=" + URLEncoder.encode(since, StandardCharsets.UTF_8)
                + "&wait=" + wait.toSeconds() + "s";
        // The long-poll legitimately takes up to `wait`: bound it by that plus the ordinary timeout.
        JsonNode reply = getJson("watch", query, since == null ? timeout : wait.plus(timeout));
        return new WatchReply(reply.path("cursor").asText(), reply.path("changes").size(), reply.path("more").asBoolean(false));
    }

    private JsonNode getJson(String path, String query, Duration bound) throws ApiFailure {
        HttpRequest request = request(path, query, bound).header("Accept", "application/json").GET().build();
        HttpResponse<byte[]> response = send(request, "GET /v1/" + path);
        if (response.statusCode() != 200) {
            throw new ApiFailure(response.statusCode(), "GET /v1/" + path + " answered HTTP " + response.statusCode()
                    + errorText(response.body()));
        }
        try {
            return json.readTree(response.body());
        } catch (IOException e) {
            throw new ApiFailure(response.statusCode(), "GET /v1/" + path + " answered JSON that does not parse", e);
        }
    }

    private String errorText(byte[] body) {
        try {
            JsonNode error = json.readTree(body);
            return error.hasNonNull("error") ? ": " + error.get("error").asText() : "";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Secret names are {@code [A-Za-z0-9._-]} segments joined by '/' (the server's grammar): no escaping needed in a path. */
    private HttpRequest.Builder request(String path, String query, Duration bound) {
        return HttpRequest.newBuilder(URI.create(base + "/v1/" + path + (query == null ? "" : "?" + query)))
                .timeout(bound)
                .header("User-Agent", USER_AGENT);
    }

    private HttpResponse<byte[]> send(HttpRequest request, String what) throws ApiFailure {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (java.net.http.HttpTimeoutException e) {
            throw new ApiFailure(0, what + ": no answer from " + base + " within " + timeout.toMillis() + " ms", e);
        } catch (IOException e) {
            throw new ApiFailure(0, what + ": cannot reach " + base + " (" + describe(e) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiFailure(0, what + ": interrupted", e);
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static Instant parseInstant(String text) {
        try {
            return text == null ? null : Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    @Override
    public void close() {
        // Not close(): that waits for a long-poll in flight (up to its wait) before returning.
        http.shutdownNow();
        values.close();
    }
}
