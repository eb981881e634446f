package dev.tresor.client.api;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One call to the /v1 API. {@code path} is relative to {@code /v1/} and is percent-encoded on the
 * way out; {@code query} values that are null are left out. {@code timeout} overrides the client's
 * request timeout (a long poll waits longer). Immutable: the {@code with*} methods return copies.
 */
public record ApiRequest(String method, String path, Map<String, String> query, byte[] body, String contentType,
                         String accept, Map<String, String> headers, Duration timeout) {

    public static final String JSON = "application/json";
    public static final String OCTETS = "application/octet-stream";

    public ApiRequest {
        if (method == null || path == null) {
            throw new IllegalArgumentException("a request needs a method and a path");
        }
        query = unmodifiableCopy(query);
        headers = unmodifiableCopy(headers);
        accept = accept == null ? JSON : accept;
        contentType = body == null ? null : (contentType == null ? JSON : contentType);
    }

    public static ApiRequest get(String path) {
        return new ApiRequest("GET", path, Map.of(), null, null, JSON, Map.of(), null);
    }

    public static ApiRequest of(String method, String path, byte[] jsonBody) {
        return new ApiRequest(method, path, Map.of(), jsonBody, JSON, JSON, Map.of(), null);
    }

    public ApiRequest withQuery(Map<String, String> parameters) {
        return new ApiRequest(method, path, parameters, body, contentType, accept, headers, timeout);
    }

    public ApiRequest withAccept(String type) {
        return new ApiRequest(method, path, query, body, contentType, type, headers, timeout);
    }

    public ApiRequest withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new ApiRequest(method, path, query, body, contentType, accept, more, timeout);
    }

    public ApiRequest withTimeout(Duration value) {
        return new ApiRequest(method, path, query, body, contentType, accept, headers, value);
    }

    /**
     * Whether sending it twice does no harm: a read, or a write the server deduplicates by its
     * {@code Idempotency-Key}. Only these are retried on another node after a failure mid-request.
     */
    public boolean repeatable() {
        return method.equals("GET") || method.equals("HEAD") || headers.containsKey("Idempotency-Key");
    }

    /** {@code /v1/PATH?QUERY}, encoded. */
    String target() {
        StringBuilder uri = new StringBuilder("/v1/").append(encodePath(path));
        char separator = '?';
        for (Map.Entry<String, String> parameter : query.entrySet()) {
            if (parameter.getValue() == null) {
                continue;
            }
            uri.append(separator).append(URLEncoder.encode(parameter.getKey(), StandardCharsets.UTF_8))
                    .append('=').append(URLEncoder.encode(parameter.getValue(), StandardCharsets.UTF_8));
            separator = '&';
        }
        return uri.toString();
    }

    /**
     * Names use only letters, digits, '.', '_', '-' and '/', which need no escaping. Anything else
     * is percent-encoded so the URI stays valid, and the server then refuses it with a message
     * about the name grammar (a client never "fixes" a name behind the user's back).
     */
    public static String encodePath(String path) {
        StringBuilder out = new StringBuilder(path.length());
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if (c < 0x80 && (Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == '~')) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private static Map<String, String> unmodifiableCopy(Map<String, String> map) {
        // LinkedHashMap keeps the caller's order (stable URIs in logs and tests) and allows null values.
        return map == null || map.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    @Override
    public String toString() {
        // Never the body: it may hold a secret value.
        return method + " " + target();
    }
}
