package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Assertions on API replies shared by the HTTP-level suites. */
public final class Replies {

    public static final ObjectMapper JSON = new ObjectMapper();

    private Replies() {}

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }

    /** Asserts the status and a JSON body, and returns the body. */
    public static JsonNode ok(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as("status of %s %s: %s", r.request().method(), r.request().uri(), r.body())
                .isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).as("content type").hasValue("application/json");
        return json(r.body());
    }

    /** Names of an object's fields, sorted. */
    public static Set<String> fields(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    public static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * Asserts an API error: the status, a JSON body of exactly {@code error} (a non-blank message)
     * and {@code requestId} (the same as the X-Request-Id header), and no trace of Java internals.
     * Returns the message.
     */
    public static String error(HttpResponse<String> r, int status) {
        return error(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null),
                r.headers().firstValue("X-Request-Id").orElse(null), r.body(), status,
                r.request().method() + " " + r.request().uri());
    }

    public static String error(RawHttp.Reply r, int status) {
        return error(r.status(), r.header("Content-Type"), r.header("X-Request-Id"), r.text(), status, "raw request");
    }

    private static String error(int actual, String contentType, String requestIdHeader, String body, int status, String what) {
        assertThat(actual).as("status of %s: %s", what, body).isEqualTo(status);
        assertThat(contentType).as("content type of %s", what).isEqualTo("application/json");
        JsonNode node = json(body);
        assertThat(fields(node)).as("error body of %s", what).containsExactly("error", "requestId");
        assertThat(node.get("error").asText()).as("error message of %s", what).isNotBlank();
        assertThat(node.get("requestId").asText()).as("request id of %s", what).matches("[0-9a-f]{16}")
                .isEqualTo(requestIdHeader);
        assertNoInternals(body);
        return node.get("error").asText();
    }

    /** No stack trace, no Java class or exception names in what a client is shown. */
    public static void assertNoInternals(String body) {
        assertThat(body).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain(".java:")
                .doesNotContain("java.").doesNotContain("jetty").doesNotContain("jackson");
    }
}
