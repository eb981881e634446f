package dev.tresor.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The two issuance calls a workload makes: {@code POST /v1/join} on the join port with a one-time
 * token (no client certificate), and {@code POST /v1/ca/renew} on the API port over mTLS with its
 * current certificate. The key pair is made by the caller and only its CSR is sent.
 */
public final class IssuanceClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the certificate may be used for: {@code CLIENT} (clientAuth) or {@code WORKLOAD} (clientAuth + serverAuth). */
    public enum Profile {
        CLIENT, WORKLOAD;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final List<X509Certificate> serverTrust;
    private final Duration timeout;

    /**
     * @param serverTrust the CA certificate(s) the server's TLS certificate must chain to
     * @param timeout     connect and request timeout of each call
     */
    public IssuanceClient(List<X509Certificate> serverTrust, Duration timeout) {
        if (serverTrust == null || serverTrust.isEmpty()) {
            throw new IllegalArgumentException("the server's CA is required (no trust on first use)");
        }
        this.serverTrust = List.copyOf(serverTrust);
        this.timeout = timeout;
    }

    /**
     * Redeems a join token at {@code joinUrl} ({@code https://host:joinPort}) for {@code keys}.
     * The token goes only into the request body over TLS; it is never logged.
     */
    public Credentials join(URI joinUrl, String token, KeyPair keys, Profile profile) throws IssuanceException {
        ObjectNode body = JSON.createObjectNode();
        body.put("token", token);
        body.put("csr", KeyMaterial.csrPem(keys));
        body.put("profile", profile.wireName());
        SSLContext tls;
        try {
            tls = SSLContext.getInstance("TLS");
            tls.init(null, Credentials.trustManagers(serverTrust), null);
        } catch (GeneralSecurityException e) {
            throw new IssuanceException(0, "cannot set up TLS: " + e.getMessage(), e);
        }
        return credentials(post(tls, joinUrl.resolve("/v1/join"), body), keys);
    }

    /** Renews {@code current} at {@code apiUrl} over mTLS for the new {@code keys}; same identity, new key. */
    public Credentials renew(URI apiUrl, Credentials current, KeyPair keys, Duration ttl, Profile profile)
            throws IssuanceException {
        ObjectNode body = JSON.createObjectNode();
        body.put("csr", KeyMaterial.csrPem(keys));
        body.put("profile", profile.wireName());
        if (ttl != null) {
            body.put("ttl", ttl.toSeconds() + "s");
        }
        return credentials(post(current.sslContext(serverTrust), apiUrl.resolve("/v1/ca/renew"), body), keys);
    }

    private JsonNode post(SSLContext tls, URI target, ObjectNode body) throws IssuanceException {
        try (HttpClient http = HttpClient.newBuilder().sslContext(tls).connectTimeout(timeout)
                .version(HttpClient.Version.HTTP_1_1).build()) {
            HttpRequest request = HttpRequest.newBuilder(target).timeout(timeout)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode reply;
            try {
                reply = JSON.readTree(response.body());
            } catch (IOException e) {
                throw new IssuanceException(response.statusCode(), "the server answered HTTP " + response.statusCode()
                        + " with a body that is not JSON", e);
            }
            if (response.statusCode() != 201) {
                String error = reply != null && reply.hasNonNull("error") ? reply.get("error").asText() : "no error message";
                throw new IssuanceException(response.statusCode(), "HTTP " + response.statusCode() + ": " + error, null);
            }
            return reply;
        } catch (IssuanceException e) {
            throw e;
        } catch (IOException e) {
            throw new IssuanceException(0, "cannot reach " + target + ": " + (e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IssuanceException(0, "interrupted while calling " + target, e);
        }
    }

    private static Credentials credentials(JsonNode reply, KeyPair keys) throws IssuanceException {
        try {
            List<X509Certificate> chain = KeyMaterial.parseCertificates(reply.path("chain").asText());
            List<X509Certificate> bundle = KeyMaterial.parseCertificates(
                    reply.hasNonNull("bundle") ? reply.get("bundle").asText() : reply.path("ca").asText());
            if (!chain.getFirst().getPublicKey().equals(keys.getPublic())) {
                throw new IssuanceException(201, "the server returned a certificate for another key", null);
            }
            return new Credentials(keys.getPrivate(), chain, bundle);
        } catch (IllegalArgumentException e) {
            throw new IssuanceException(201, "the server's answer has no usable certificate: " + e.getMessage(), e);
        }
    }
}
