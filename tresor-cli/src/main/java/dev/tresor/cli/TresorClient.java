package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.ca.Pem;
import dev.tresor.ca.TrustMaterial;
import dev.tresor.client.api.ApiRequest;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
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
    private final TresorHttp http;
    private final Clock clock;

    TresorClient(ConnectionSettings settings, SSLContext tls, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.http = new TresorHttp(new ServerAddresses(settings.addresses()), TlsSource.fixed(tls),
                TresorHttp.Options.defaults("tresor-cli/" + VersionProvider.version())
                        .withTimeouts(CONNECT_TIMEOUT, REQUEST_TIMEOUT));
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
     * addresses, the shared transport ({@link TresorHttp}) tries the next one when one cannot be
     * connected to, and also when one fails mid-request or answers 503 if the request is safe to
     * repeat: a GET, or a write that carries an {@code Idempotency-Key}. A write without one is
     * never sent twice.
     */
    ApiReply send(String method, String path, Map<String, String> query, byte[] body, String accept,
                  Map<String, String> headers) {
        ApiRequest request = new ApiRequest(method, path, query, body, JSON, accept, headers, null);
        dev.tresor.client.api.ApiReply reply;
        try {
            reply = http.send(request);
        } catch (TransportException e) {
            if (e.getCause() instanceof InterruptedIOException) {
                throw new CliException(ExitCodes.ERROR, "interrupted");
            }
            throw TransportFailures.classify(e.getCause(), settings.withAddress(e.node()), clock);
        }
        return new ApiReply(reply.status(), reply.body(), reply.contentType(), reply.requestId());
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

    /** See {@link ApiRequest#encodePath}. */
    static String encodePath(String path) {
        return ApiRequest.encodePath(path);
    }
}
