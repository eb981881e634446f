package dev.tresor.client.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Typed calls on secrets, whoami and the change feed, for the clients that act on values (the
 * rotation job, the agent, the mount). Refusals are {@link ApiException}s carrying the status, so
 * each caller decides what a 403 or a 409 means for it; no answer at all is a
 * {@link TransportException}.
 */
public final class SecretsClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TresorHttp http;

    public SecretsClient(TresorHttp http) {
        this.http = http;
    }

    public TresorHttp http() {
        return http;
    }

    /** The caller's identity as the server sees it: a cheap reachability and authentication check. */
    public JsonNode whoami() {
        return http.send(ApiRequest.get("whoami")).requireJson();
    }

    /** The version labelled {@code label} (one audited read). */
    public SecretValue read(String name, String label) {
        return value(name, http.send(ApiRequest.get("secrets/" + name).withQuery(Map.of("label", label))));
    }

    /** Version {@code version} (one audited read). */
    public SecretValue read(String name, int version) {
        return value(name, http.send(ApiRequest.get("secrets/" + name).withQuery(Map.of("version", Integer.toString(version)))));
    }

    /** As {@link #read(String, String)}, but empty when there is no such secret or label (404). */
    public Optional<SecretValue> find(String name, String label) {
        try {
            return Optional.of(read(name, label));
        } catch (ApiException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static SecretValue value(String name, ApiReply reply) {
        try {
            if (!reply.ok()) {
                throw reply.failure();
            }
            return SecretValue.parse(name, reply.body());
        } finally {
            reply.wipe();
        }
    }

    /** What a write asks for. {@code cas} null: no compare-and-set; {@code groups} only when the secret is new. */
    public record Write(byte[] value, Integer cas, List<String> labels, List<String> groups) {

        public Write {
            labels = labels == null ? List.of() : List.copyOf(labels);
            groups = groups == null ? List.of() : List.copyOf(groups);
        }

        public static Write value(byte[] value) {
            return new Write(value, null, List.of(), List.of());
        }

        public Write withCas(int version) {
            return new Write(value, version, labels, groups);
        }

        public Write withLabels(List<String> names) {
            return new Write(value, cas, names, groups);
        }

        @Override
        public String toString() {
            return "Write[cas=" + cas + ", labels=" + labels + ", groups=" + groups + ", value=(hidden)]";
        }
    }

    /**
     * Adds a version and returns its number. Always sent with a fresh {@code Idempotency-Key}, so
     * that a node failing mid-request can be retried on another node without writing twice. The
     * request body and {@code write.value()} are wiped afterwards.
     */
    public int put(String name, Write write) {
        ObjectNode body = JSON.createObjectNode();
        if (isUtf8Text(write.value())) {
            body.put("value", new String(write.value(), StandardCharsets.UTF_8));
        } else {
            body.put("valueBase64", Base64.getEncoder().encodeToString(write.value()));
        }
        if (write.cas() != null) {
            body.put("cas", write.cas());
        }
        if (!write.labels().isEmpty()) {
            body.putArray("labels").addAll(write.labels().stream().map(JSON.getNodeFactory()::textNode).toList());
        }
        if (!write.groups().isEmpty()) {
            body.putArray("groups").addAll(write.groups().stream().map(JSON.getNodeFactory()::textNode).toList());
        }
        byte[] bytes = bytes(body);
        Arrays.fill(write.value(), (byte) 0);
        try {
            ApiRequest request = ApiRequest.of("PUT", "secrets/" + name, bytes)
                    .withHeader("Idempotency-Key", "client-" + UUID.randomUUID());
            return http.send(request).requireJson().path("version").asInt();
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Moves {@code label} to {@code version}, only if {@code cas} is still the current version. */
    public void moveLabel(String name, String label, int version, int cas) {
        ObjectNode body = JSON.createObjectNode();
        body.put("label", label);
        body.put("version", version);
        body.put("cas", cas);
        http.send(ApiRequest.of("POST", "secrets/" + name + "/labels", bytes(body))).requireJson();
    }

    /** The secrets under {@code prefix} this caller may see, following the listing's pages. */
    public List<SecretSummary> list(String prefix) {
        return list(prefix, null);
    }

    /** As {@link #list(String)}, with {@code timeout} instead of the client's request timeout for each page. */
    public List<SecretSummary> list(String prefix, Duration timeout) {
        List<SecretSummary> all = new ArrayList<>();
        String after = null;
        do {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("prefix", prefix);
            query.put("limit", "500");
            query.put("after", after);
            JsonNode page = http.send(ApiRequest.get("secrets").withQuery(query).withTimeout(timeout)).requireJson();
            for (JsonNode s : page.path("secrets")) {
                List<String> groups = new ArrayList<>();
                s.path("groups").forEach(g -> groups.add(g.asText()));
                Map<String, Integer> labels = new LinkedHashMap<>();
                s.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asInt()));
                all.add(new SecretSummary(s.path("name").asText(), groups, labels,
                        s.hasNonNull("currentVersion") ? s.get("currentVersion").asInt() : null,
                        s.path("latestVersion").asInt(), instant(s.path("updatedAt").asText(null)), s.hasNonNull("deletedAt"),
                        s.path("destroyed").asBoolean(false)));
            }
            after = page.hasNonNull("next") ? page.get("next").asText() : null;
        } while (after != null);
        return all;
    }

    /**
     * {@code GET /v1/watch}: without a cursor, where to start; with one, the changes after it,
     * waiting up to {@code wait} for the first. A 410 (the cursor fell out of the feed's window)
     * is an {@link ApiException} with that status: re-read everything and start over.
     */
    public WatchPage watch(String since, Duration wait) {
        ApiRequest request = ApiRequest.get("watch");
        if (since != null) {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("since", since);
            query.put("wait", wait.toMillis() + "ms");
            request = request.withQuery(query).withTimeout(http.options().requestTimeout().plus(wait));
        }
        JsonNode root = http.send(request).requireJson();
        if (!root.hasNonNull("cursor")) {
            throw new ApiException(200, "the watch answer has no cursor", null);
        }
        List<Change> changes = new ArrayList<>();
        for (JsonNode c : root.path("changes")) {
            changes.add(new Change(c.path("seq").asText(), c.path("kind").asText(), c.path("secret").asText(),
                    c.hasNonNull("version") ? c.get("version").asInt() : null,
                    c.hasNonNull("label") ? c.get("label").asText() : null));
        }
        return new WatchPage(root.get("cursor").asText(), changes, root.path("more").asBoolean(false));
    }

    private static java.time.Instant instant(String text) {
        try {
            return text == null ? null : java.time.Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    private static boolean isUtf8Text(byte[] value) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(value));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
