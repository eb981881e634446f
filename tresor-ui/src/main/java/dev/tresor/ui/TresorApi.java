package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.tresor.client.api.ApiReply;
import dev.tresor.client.api.ApiRequest;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The console's side of the /v1 API, as the CLI's identity over mTLS, and plain-HTTP calls to the
 * management addresses. A transport failure is an answer with status 0 and a message, so a page
 * can show "cannot reach" instead of failing.
 */
final class TresorApi implements AutoCloseable {

    private static final String USER_AGENT = "tresor-ui";

    /** One answer: the status (0 when the server could not be reached), its JSON, and an error sentence for failures. */
    record Reply(int status, JsonNode json, String error) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** A plain-text answer from a management address (status 0: unreachable). */
    record TextReply(int status, String body, String error) {}

    private final URI base;
    private final Duration timeout;
    private final TresorHttp mtls;
    private final HttpClient plain;
    private final ObjectMapper json;

    TresorApi(ConsoleSettings settings, ObjectMapper json) {
        this.base = settings.server();
        this.timeout = settings.requestTimeout();
        this.json = json;
        this.mtls = new TresorHttp(ServerAddresses.of(base), TlsSource.fixed(settings.tls()),
                TresorHttp.Options.defaults(USER_AGENT).withTimeouts(timeout, timeout));
        this.plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    URI base() {
        return base;
    }

    Reply get(String path, Map<String, String> query) {
        return send("GET", path, query, null);
    }

    Reply send(String method, String path, Map<String, String> query, JsonNode body) {
        // The console's forms send empty fields for "not given": leave them out of the query.
        Map<String, String> given = new LinkedHashMap<>();
        query.forEach((k, v) -> {
            if (v != null && !v.isEmpty()) {
                given.put(k, v);
            }
        });
        ApiReply response;
        try {
            response = mtls.send(new ApiRequest(method, path, given, body == null ? null : bytes(body), ApiRequest.JSON,
                    ApiRequest.JSON, Map.of(), null));
        } catch (TransportException e) {
            if (e.getCause() instanceof java.io.InterruptedIOException) {
                return new Reply(0, MissingNode.getInstance(), "interrupted");
            }
            return new Reply(0, MissingNode.getInstance(), "cannot reach " + base + " (" + rootCause(e.getCause()) + ")");
        }
        JsonNode parsed = parse(response.body());
        String error = null;
        if (response.status() >= 300) {
            error = parsed.hasNonNull("error") ? parsed.get("error").asText()
                    : "the server answered HTTP " + response.status();
        }
        return new Reply(response.status(), parsed, error);
    }

    /** A GET on a management address (plain HTTP: /readyz, /metrics). */
    TextReply management(URI address, String path) {
        HttpRequest request = HttpRequest.newBuilder(address.resolve(path)).timeout(timeout)
                .header("User-Agent", USER_AGENT).GET().build();
        try {
            HttpResponse<String> response = plain.send(request, HttpResponse.BodyHandlers.ofString());
            return new TextReply(response.statusCode(), response.body(), null);
        } catch (IOException e) {
            return new TextReply(0, "", "cannot reach " + address + " (" + rootCause(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new TextReply(0, "", "interrupted");
        }
    }

    private JsonNode parse(byte[] body) {
        if (body.length == 0) {
            return MissingNode.getInstance();
        }
        try {
            return json.readTree(body);
        } catch (IOException e) {
            return MissingNode.getInstance();
        }
    }

    private byte[] bytes(JsonNode body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a request body", e);
        }
    }

    /** See {@link ApiRequest#encodePath}. */
    static String encodePath(String path) {
        return ApiRequest.encodePath(path);
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    @Override
    public void close() {
        mtls.close();
        plain.shutdownNow();
    }
}
