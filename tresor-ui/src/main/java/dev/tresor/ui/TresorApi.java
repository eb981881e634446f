package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
    private final HttpClient mtls;
    private final HttpClient plain;
    private final ObjectMapper json;

    TresorApi(ConsoleSettings settings, ObjectMapper json) {
        this.base = settings.server();
        this.timeout = settings.requestTimeout();
        this.json = json;
        this.mtls = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(settings.tls())
                .connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
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
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path, query)).timeout(timeout)
                .header("Accept", "application/json").header("User-Agent", USER_AGENT);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
        }
        HttpResponse<byte[]> response;
        try {
            response = mtls.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            return new Reply(0, MissingNode.getInstance(), "cannot reach " + base + " (" + rootCause(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(0, MissingNode.getInstance(), "interrupted");
        }
        JsonNode parsed = parse(response.body());
        String error = null;
        if (response.statusCode() >= 300) {
            error = parsed.hasNonNull("error") ? parsed.get("error").asText()
                    : "the server answered HTTP " + response.statusCode();
        }
        return new Reply(response.statusCode(), parsed, error);
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

    private URI uri(String path, Map<String, String> query) {
        StringBuilder uri = new StringBuilder(base.toString()).append("/v1/").append(encodePath(path));
        char separator = '?';
        for (Map.Entry<String, String> parameter : new LinkedHashMap<>(query).entrySet()) {
            if (parameter.getValue() == null || parameter.getValue().isEmpty()) {
                continue;
            }
            uri.append(separator).append(URLEncoder.encode(parameter.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(parameter.getValue(), StandardCharsets.UTF_8));
            separator = '&';
        }
        return URI.create(uri.toString());
    }

    /**
     * Secret names are letters, digits, '.', '_', '-' and '/'; anything else typed into the console is
     * percent-encoded so the URI stays valid, and the server refuses it with its own message.
     */
    static String encodePath(String path) {
        StringBuilder out = new StringBuilder(path.length());
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '/')) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
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
        mtls.shutdownNow();
        plain.shutdownNow();
    }
}
