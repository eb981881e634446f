package dev.tresor.agent.feed;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.agent.config.SecretRef;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The two calls the agent makes, over mTLS with the JDK's HTTP client: read a secret
 * ({@code GET /v1/secrets/NAME}) and follow the change feed ({@code GET /v1/watch}). Failures are
 * sorted into what the agent must do about them ({@link ReadResult}, {@link WatchResult}), so the
 * caller never has to tell a revoked secret from a server that is down by parsing messages.
 */
public final class TresorFeedClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();

    private final URI server;
    private final Identity identity;
    private final Duration requestTimeout;
    private HttpClient http;
    private Object generation;

    public TresorFeedClient(URI server, Identity identity, Duration requestTimeout) {
        this.server = server;
        this.identity = identity;
        this.requestTimeout = requestTimeout;
    }

    /** The client for the current credentials; rebuilt after a renewal, so new connections use the new certificate. */
    private synchronized HttpClient http() {
        Object now = identity.generation();
        if (http == null || !now.equals(generation)) {
            HttpClient old = http;
            http = HttpClient.newBuilder().sslContext(identity.sslContext()).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(requestTimeout).build();
            generation = now;
            if (old != null) {
                old.shutdown(); // lets a long-poll in flight on the old client finish
            }
        }
        return http;
    }

    /** Reads {@code ref} (one audited read). */
    public ReadResult read(SecretRef ref) {
        HttpRequest request = HttpRequest.newBuilder(server.resolve(ref.path())).timeout(requestTimeout)
                .header("Accept", "application/json").GET().build();
        byte[] body = null;
        try {
            HttpResponse<byte[]> response = http().send(request, HttpResponse.BodyHandlers.ofByteArray());
            body = response.body();
            int status = response.statusCode();
            if (status == 200) {
                return value(body);
            }
            String message = "HTTP " + status + ": " + error(body);
            if (status == 403 || status == 404 || status == 410) {
                return new ReadResult.Gone(status, message);
            }
            return new ReadResult.Unavailable(message);
        } catch (IOException e) {
            return new ReadResult.Unavailable(describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ReadResult.Unavailable("interrupted");
        } finally {
            if (body != null) {
                Arrays.fill(body, (byte) 0);
            }
        }
    }

    /** {@code GET /v1/watch} (no cursor: where to start) or {@code ?since=CURSOR&wait=W}. */
    public WatchResult watch(String since, Duration wait) {
        String query = since == null ? "" : "?since=" + URLEncoder.encode(since, StandardCharsets.UTF_8) + "&wait="
                + wait.toMillis() + "ms";
        HttpRequest request = HttpRequest.newBuilder(server.resolve("/v1/watch" + query))
                .timeout(requestTimeout.plus(since == null ? Duration.ZERO : wait))
                .header("Accept", "application/json").GET().build();
        try {
            HttpResponse<byte[]> response = http().send(request, HttpResponse.BodyHandlers.ofByteArray());
            int status = response.statusCode();
            byte[] body = response.body();
            return switch (status) {
                case 200 -> changes(body);
                case 410 -> new WatchResult.Reset(error(body));
                case 404, 405 -> new WatchResult.NoFeed("HTTP " + status + ": " + error(body));
                default -> new WatchResult.Unavailable("HTTP " + status + ": " + error(body));
            };
        } catch (IOException e) {
            return new WatchResult.Unavailable(describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new WatchResult.Unavailable("interrupted");
        }
    }

    private static WatchResult changes(byte[] body) throws IOException {
        JsonNode root = JSON.readTree(body);
        if (root == null || !root.hasNonNull("cursor")) {
            return new WatchResult.Unavailable("the watch answer has no cursor");
        }
        List<Change> changes = new ArrayList<>();
        for (JsonNode c : root.path("changes")) {
            changes.add(new Change(c.path("seq").asText(), c.path("kind").asText(), c.path("secret").asText(),
                    c.hasNonNull("version") ? c.get("version").asInt() : null,
                    c.hasNonNull("label") ? c.get("label").asText() : null));
        }
        return new WatchResult.Changes(root.get("cursor").asText(), changes, root.path("more").asBoolean(false));
    }

    /**
     * Pulls value, encoding and version out of the JSON answer without making the value a String
     * (its characters are copied once into an array that is zeroed after encoding).
     */
    private static ReadResult value(byte[] body) throws IOException {
        char[] text = null;
        String encoding = "utf-8";
        int version = -1;
        try (JsonParser p = FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new ReadResult.Unavailable("the secret answer is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken token = p.nextToken();
                switch (field) {
                    case "value" -> text = token == JsonToken.VALUE_STRING
                            ? Arrays.copyOfRange(p.getTextCharacters(), p.getTextOffset(), p.getTextOffset() + p.getTextLength())
                            : null;
                    case "encoding" -> encoding = p.getText();
                    case "version" -> version = p.getIntValue();
                    default -> p.skipChildren();
                }
            }
            if (text == null || version < 0) {
                return new ReadResult.Unavailable("the secret answer has no value or version");
            }
            byte[] bytes;
            if ("base64".equals(encoding)) {
                ByteBuffer ascii = StandardCharsets.ISO_8859_1.encode(CharBuffer.wrap(text));
                byte[] encoded = Arrays.copyOfRange(ascii.array(), 0, ascii.limit());
                bytes = Base64.getDecoder().decode(encoded);
                Arrays.fill(encoded, (byte) 0);
                Arrays.fill(ascii.array(), (byte) 0);
            } else {
                ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(text));
                bytes = Arrays.copyOfRange(encoded.array(), 0, encoded.limit());
                Arrays.fill(encoded.array(), (byte) 0);
            }
            return new ReadResult.Value(bytes, version);
        } finally {
            if (text != null) {
                Arrays.fill(text, '\0');
            }
        }
    }

    private static String error(byte[] body) {
        try {
            JsonNode root = JSON.readTree(body);
            if (root != null && root.hasNonNull("error")) {
                return root.get("error").asText();
            }
        } catch (IOException | RuntimeException ignored) {
            // not JSON: say so below
        }
        return "(no error message)";
    }

    private String describe(IOException e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer from " + server + " within the timeout";
        }
        // HttpClient's ConnectException often has no message; its cause says "Connection refused".
        Throwable t = e;
        while (t.getMessage() == null && t.getCause() != null) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? e.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
        return "cannot reach " + server + ": " + message;
    }

    @Override
    public synchronized void close() {
        if (http != null) {
            http.shutdownNow();
        }
    }
}
