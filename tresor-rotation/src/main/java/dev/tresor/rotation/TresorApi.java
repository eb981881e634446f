package dev.tresor.rotation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.ca.TrustMaterial;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import javax.net.ssl.SSLContext;

/**
 * The rotation job's side of the Tresor /v1 API, over mutual TLS with its own client certificate:
 * read a secret by label, add a version with compare-and-set and labels, move a label with cas.
 * Values travel as JSON; copies of them are wiped where the API hands out bytes.
 */
public final class TresorApi implements AutoCloseable {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    TresorApi(URI base, SSLContext tls) {
        this.base = base;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public static TresorApi open(TresorConnection connection) {
        SSLContext tls;
        try {
            tls = TrustMaterial.clientContext(connection.cert(), connection.key(), connection.ca());
        } catch (RuntimeException e) {
            throw new RotationException(RotationException.Kind.CONFIG, "cannot load the rotation job's client certificate "
                    + connection.cert() + ", key " + connection.key() + " or CA " + connection.ca() + ": " + e.getMessage());
        }
        String text = connection.address().toString();
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return new TresorApi(URI.create(text), tls);
    }

    @Override
    public void close() {
        http.close();
    }

    /** The caller's identity as the server sees it (a cheap reachability and authentication check). */
    public JsonNode whoami() {
        return json(send("GET", "whoami", null), "whoami");
    }

    /**
     * Reads {@code current} and any outstanding {@code pending} version of a secret and parses both
     * with {@code parser} (given the value and a description naming the secret and version).
     */
    public <T> SecretState<T> state(String name, BiFunction<byte[], String, T> parser) {
        Raw current = read(name, "current").orElseThrow(() -> new RotationException(RotationException.Kind.STATE,
                "secret '" + name + "' has no version labelled current; store the initial value with"
                        + " `tresor secret put " + name + " - --group GROUP`"));
        Optional<Versioned<T>> pending = Optional.empty();
        Optional<Raw> rawPending = read(name, "pending");
        if (rawPending.isPresent() && rawPending.get().version() > current.version()) {
            Raw p = rawPending.get();
            pending = Optional.of(new Versioned<>(p.version(), parse(parser, p, name)));
        }
        return new SecretState<>(name, new Versioned<>(current.version(), parse(parser, current, name)), pending);
    }

    private static <T> T parse(BiFunction<byte[], String, T> parser, Raw raw, String name) {
        try {
            return parser.apply(raw.value(), "secret " + name + " v" + raw.version());
        } finally {
            Arrays.fill(raw.value(), (byte) 0);
        }
    }

    private record Raw(int version, byte[] value) {}

    private Optional<Raw> read(String name, String label) {
        HttpResponse<byte[]> response = send("GET", "secrets/" + name + "?label=" + label, null);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        JsonNode body = json(response, "read " + name + " (label " + label + ")");
        try {
            String encoding = body.path("encoding").asText("utf-8");
            byte[] value = "base64".equals(encoding)
                    ? Base64.getDecoder().decode(body.path("value").asText())
                    : body.path("value").asText().getBytes(StandardCharsets.UTF_8);
            return Optional.of(new Raw(body.path("version").asInt(), value));
        } finally {
            Arrays.fill(response.body(), (byte) 0);
        }
    }

    /** The groups of a secret, as its metadata shows them to this caller (empty if it cannot see it). */
    public List<String> groupsOf(String name) {
        JsonNode body = json(send("GET", "secrets?prefix=" + name + "&limit=10", null), "list " + name);
        for (JsonNode s : body.path("secrets")) {
            if (name.equals(s.path("name").asText())) {
                List<String> groups = new java.util.ArrayList<>();
                s.path("groups").forEach(g -> groups.add(g.asText()));
                return groups;
            }
        }
        return List.of();
    }

    /** Adds a version with the given labels, only if {@code cas} is still the current version; returns the new version. */
    public int put(String name, byte[] value, int cas, List<String> labels) {
        ObjectNode body = JSON.createObjectNode();
        body.put("value", new String(value, StandardCharsets.UTF_8));
        body.put("cas", cas);
        body.putArray("labels").addAll(labels.stream().map(JSON.getNodeFactory()::textNode).toList());
        byte[] bytes = bytes(body);
        Arrays.fill(value, (byte) 0);
        try {
            return json(send("PUT", "secrets/" + name, bytes), "write " + name).path("version").asInt();
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Moves {@code label} to {@code version}, only if {@code cas} is still the current version. */
    public void label(String name, String label, int version, int cas) {
        ObjectNode body = JSON.createObjectNode();
        body.put("label", label);
        body.put("version", version);
        body.put("cas", cas);
        json(send("POST", "secrets/" + name + "/labels", bytes(body)), "move label " + label + " of " + name);
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<byte[]> send(String method, String path, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/v1/" + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Accept", "application/json")
                .header("User-Agent", "tresor-rotation");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw new RotationException(RotationException.Kind.UNAVAILABLE, "cannot reach Tresor at " + base
                    + ": is the server running and TRESOR_ADDR right?");
        } catch (IOException e) {
            throw new RotationException(RotationException.Kind.UNAVAILABLE, "cannot talk to Tresor at " + base + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + " (is the client certificate issued by the server's CA, and TRESOR_CA the server's CA?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RotationException(RotationException.Kind.FAILED, "interrupted while talking to Tresor");
        }
    }

    private static JsonNode json(HttpResponse<byte[]> response, String what) {
        int status = response.statusCode();
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            body = null;
        }
        if (status >= 200 && status < 300 && body != null) {
            return body;
        }
        String message = body == null ? "HTTP " + status : body.path("error").asText("HTTP " + status);
        String requestId = body == null ? null : body.path("requestId").asText(null);
        String detail = "Tresor refused to " + what + ": " + message + (requestId == null ? "" : " (request id " + requestId + ")");
        throw switch (status) {
            case 401, 403 -> new RotationException(RotationException.Kind.DENIED, detail
                    + "; the rotation identity needs the write role in a group holding the secret"
                    + " (tresor group ... / PUT /v1/groups/G/clients/C {\"role\":\"write\"})");
            case 409 -> new RotationException(RotationException.Kind.BUSY, detail
                    + "; another writer changed the secret meanwhile (a concurrent rotation?): rerun when it has finished");
            case 404 -> new RotationException(RotationException.Kind.STATE, detail);
            case 502, 503, 504 -> new RotationException(RotationException.Kind.UNAVAILABLE, detail);
            default -> new RotationException(RotationException.Kind.FAILED, detail);
        };
    }
}
