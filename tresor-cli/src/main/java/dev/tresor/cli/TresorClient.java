package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.ca.Pem;
import dev.tresor.ca.TrustMaterial;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The CLI's side of the /v1 API: one mTLS HTTP/1.1 client per command. Every failure becomes a
 * {@link CliException} whose message names what to fix and whose exit code says what kind of
 * failure it was; server errors carry the server's own message and request id.
 */
final class TresorClient implements AutoCloseable {

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final String JSON = "application/json";
    static final String OCTETS = "application/octet-stream";

    /** The key store is built in memory and never written, so its password protects nothing. */
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private final ConnectionSettings settings;
    private final HttpClient http;
    private final Clock clock;

    TresorClient(ConnectionSettings settings, SSLContext tls, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .sslContext(tls)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** Loads the certificate, key and CA bundle; an unreadable or mismatched file is a usage error naming its setting. */
    static TresorClient open(ConnectionSettings settings, Clock clock) {
        return new TresorClient(settings, tls(settings), clock);
    }

    /**
     * The mTLS context for these settings (our certificate and key, the server's CA), for commands
     * that talk to the server through a module of their own ({@code tresor mount}).
     */
    static SSLContext tls(ConnectionSettings settings) {
        List<X509Certificate> chain = load(settings.cert(), () -> Pem.readCertificates(settings.cert().value()));
        PrivateKey key = load(settings.key(), () -> Pem.readPrivateKey(settings.key().value()));
        List<X509Certificate> anchors = load(settings.ca(), () -> Pem.readCertificates(settings.ca().value()));
        requireLeafFirst(chain, settings.cert());
        KeyStore trustStore;
        try {
            trustStore = TrustMaterial.trustStore(anchors);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(settings.ca().source() + " (" + settings.ca().value() + "): " + e.getMessage()
                    + "; point it at the CA certificate (ca.crt), not a client or server certificate");
        }
        return TrustMaterial.clientContext(keyStore(chain, key), IN_MEMORY, trustStore);
    }

    /**
     * An in-memory JKS store for our key. Not {@link TrustMaterial#keyStore}: PKCS#12 encrypts the
     * key with 10,000 PBKDF2 rounds (about 75 ms of a 0.5 s command) for a store that is never
     * written anywhere, and its key/certificate match check signs with the key (another ~70 ms
     * cold). The match is checked only if the server refuses us, to name the file at fault
     * ({@link TransportFailures#keyBelongsToCertificate}).
     */
    private static KeyStore keyStore(List<X509Certificate> chain, PrivateKey key) {
        try {
            KeyStore store = KeyStore.getInstance("JKS");
            store.load(null, null);
            store.setKeyEntry("tresor", key, IN_MEMORY, chain.toArray(X509Certificate[]::new));
            return store;
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the in-memory key store: " + e.getMessage(), e);
        }
    }

    /** TLS sends the chain as given: leaf first, each certificate followed by its issuer. */
    private static void requireLeafFirst(List<X509Certificate> chain, Setting<Path> cert) {
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (!chain.get(i).getIssuerX500Principal().equals(chain.get(i + 1).getSubjectX500Principal())) {
                throw CliException.usage(cert.source() + " (" + cert.value() + "): certificate #" + (i + 2)
                        + " did not issue certificate #" + (i + 1) + "; the chain must be in leaf-first order");
            }
        }
    }

    private static <T> T load(Setting<Path> setting, Supplier<T> reader) {
        try {
            return reader.get();
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw CliException.usage(setting.source() + ": " + e.getMessage());
        }
    }

    /** Stops the client's selector thread (see {@link ApiCommand}). */
    @Override
    public void close() {
        http.close();
    }

    ConnectionSettings settings() {
        return settings;
    }

    /** Sends a request and returns the reply whatever its status; transport failures become CliExceptions. */
    ApiReply send(String method, String path, Map<String, String> query, byte[] body, String accept) {
        return send(method, path, query, body, accept, Map.of());
    }

    /**
     * As {@link #send(String, String, Map, byte[], String)} with extra headers. With several
     * addresses, the next one is tried (after a short pause) when one cannot be connected to, and
     * also when one fails mid-request or answers 503 if the request is safe to repeat: a GET, or a
     * write that carries an {@code Idempotency-Key}. A write without one is never sent twice.
     */
    ApiReply send(String method, String path, Map<String, String> query, byte[] body, String accept,
                  Map<String, String> headers) {
        boolean repeatable = method.equals("GET") || headers.containsKey("Idempotency-Key");
        List<URI> addresses = settings.addresses();
        RuntimeException lastFailure = null;
        ApiReply lastUnavailable = null;
        for (int i = 0; i < addresses.size(); i++) {
            if (i > 0) {
                pause(i);
            }
            URI base = addresses.get(i);
            HttpRequest.Builder request = HttpRequest.newBuilder(uri(base, path, query))
                    .timeout(REQUEST_TIMEOUT)
                    .header("Accept", accept)
                    .header("User-Agent", "tresor-cli/" + VersionProvider.version());
            headers.forEach(request::header);
            if (body == null) {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", JSON).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
            }
            HttpResponse<byte[]> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                CliException failure = TransportFailures.classify(e, settings.withAddress(base), clock);
                boolean notSent = e instanceof java.net.ConnectException || e instanceof java.net.http.HttpConnectTimeoutException;
                if (i + 1 < addresses.size() && (notSent || repeatable)) {
                    lastFailure = failure;
                    continue;
                }
                throw failure;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCodes.ERROR, "interrupted");
            }
            ApiReply reply = new ApiReply(response.statusCode(), response.body(),
                    response.headers().firstValue("Content-Type").orElse(""),
                    response.headers().firstValue("X-Request-Id").orElse(null));
            if (reply.status() == 503 && repeatable && i + 1 < addresses.size()) {
                lastUnavailable = reply;
                continue;
            }
            return reply;
        }
        if (lastUnavailable != null) {
            return lastUnavailable;
        }
        throw lastFailure;
    }

    /** Between two nodes: 100 ms, then 200, 400 (a node that just died is not retried at once). */
    private static void pause(int attempt) {
        try {
            Thread.sleep(100L << Math.min(attempt - 1, 3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.ERROR, "interrupted");
        }
    }

    /** Sends a request and returns its JSON body, or throws the server's error as a CliException. */
    JsonNode call(String method, String path, Map<String, String> query, JsonNode body) {
        ApiReply reply = send(method, path, query, body == null ? null : Json.bytes(body), JSON);
        if (!reply.ok()) {
            throw failure(reply);
        }
        return reply.json();
    }

    JsonNode get(String path, Map<String, String> query) {
        return call("GET", path, query, null);
    }

    JsonNode get(String path) {
        return get(path, Map.of());
    }

    /** The server's error message and request id, with the exit code its status maps to. */
    static CliException failure(ApiReply reply) {
        String message = null;
        String requestId = reply.requestId();
        if (reply.contentType().startsWith(JSON)) {
            try {
                JsonNode error = Json.parse(reply.body());
                message = Json.text(error, "error", null);
                requestId = Json.text(error, "requestId", requestId);
            } catch (IOException e) {
                // Fall through to the generic message below.
            }
        }
        if (message == null) {
            message = "the server answered HTTP " + reply.status();
        }
        return new CliException(ExitCodes.forHttpStatus(reply.status()),
                message + (requestId == null ? "" : " (request id " + requestId + ")"));
    }

    private static URI uri(URI base, String path, Map<String, String> query) {
        StringBuilder uri = new StringBuilder(base.toString()).append("/v1/").append(encodePath(path));
        char separator = '?';
        for (Map.Entry<String, String> parameter : new LinkedHashMap<>(query).entrySet()) {
            if (parameter.getValue() == null) {
                continue;
            }
            uri.append(separator).append(URLEncoder.encode(parameter.getKey(), StandardCharsets.UTF_8))
                    .append('=').append(URLEncoder.encode(parameter.getValue(), StandardCharsets.UTF_8));
            separator = '&';
        }
        return URI.create(uri.toString());
    }

    /**
     * Names use only letters, digits, '.', '_', '-' and '/', which need no escaping. Anything
     * else is percent-encoded so the URI stays valid, and the server then refuses it with a
     * message about the name grammar.
     */
    static String encodePath(String path) {
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
}
