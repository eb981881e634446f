package dev.tresor.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.client.api.ApiException;
import dev.tresor.client.api.ApiReply;
import dev.tresor.client.api.ApiRequest;
import dev.tresor.client.api.ServerAddresses;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import java.io.IOException;
import java.net.URI;
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
        return credentials(post(tls, ServerAddresses.of(joinUrl), "join", body), keys);
    }

    /** Renews {@code current} at {@code apiUrl} over mTLS for the new {@code keys}; same identity, new key. */
    public Credentials renew(URI apiUrl, Credentials current, KeyPair keys, Duration ttl, Profile profile)
            throws IssuanceException {
        return renew(ServerAddresses.of(apiUrl), current, keys, ttl, profile);
    }

    /**
     * As {@link #renew(URI, Credentials, KeyPair, Duration, Profile)} on a cluster: a node that
     * refuses the connection is passed over for the next (the request was never sent). A renewal
     * cut mid-request is not repeated here; the caller's retry (the renewer's backoff) makes a new one.
     */
    public Credentials renew(ServerAddresses api, Credentials current, KeyPair keys, Duration ttl, Profile profile)
            throws IssuanceException {
        ObjectNode body = JSON.createObjectNode();
        body.put("csr", KeyMaterial.csrPem(keys));
        body.put("profile", profile.wireName());
        if (ttl != null) {
            body.put("ttl", ttl.toSeconds() + "s");
        }
        return credentials(post(current.sslContext(serverTrust), api, "ca/renew", body), keys);
    }

    /** One POST through the shared transport; never repeated (a join token is single-use). */
    private JsonNode post(SSLContext tls, ServerAddresses servers, String path, ObjectNode body) throws IssuanceException {
        String target = servers.size() == 1 ? servers.first().resolve("/v1/" + path).toString()
                : "/v1/" + path + " on " + servers;
        byte[] request;
        try {
            request = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IssuanceException(0, "cannot encode the request to " + target + ": " + e.getMessage(), e);
        }
        try (TresorHttp http = new TresorHttp(servers, TlsSource.fixed(tls),
                TresorHttp.Options.defaults("tresor-client").withTimeouts(timeout, timeout))) {
            ApiReply response = http.send(ApiRequest.of("POST", path, request));
            JsonNode reply;
            try {
                reply = response.json();
            } catch (ApiException e) {
                throw new IssuanceException(response.status(), e.getMessage(), e);
            }
            if (response.status() != 201) {
                String error = reply.hasNonNull("error") ? reply.get("error").asText() : "no error message";
                throw new IssuanceException(response.status(), "HTTP " + response.status() + ": " + error, null);
            }
            return reply;
        } catch (TransportException e) {
            if (e.getCause() instanceof java.io.InterruptedIOException) {
                throw new IssuanceException(0, "interrupted while calling " + target, e);
            }
            throw new IssuanceException(0, "cannot reach " + target + ": " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
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
