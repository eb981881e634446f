package dev.tresor.rotation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.ca.TrustMaterial;
import dev.tresor.client.api.ApiException;
import dev.tresor.client.api.SecretSummary;
import dev.tresor.client.api.SecretValue;
import dev.tresor.client.api.SecretsClient;
import dev.tresor.client.api.TlsSource;
import dev.tresor.client.api.TransportException;
import dev.tresor.client.api.TresorHttp;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The rotation job's side of the Tresor /v1 API, over mutual TLS with its own client certificate:
 * read a secret by label, add a version with compare-and-set and labels, move a label with cas.
 * The calls are tresor-client's ({@link SecretsClient}, with failover between nodes and an
 * idempotency key on every write); this class turns their refusals into {@link RotationException}s
 * that say what the operator has to do. Values are wiped once parsed.
 */
public final class TresorApi implements AutoCloseable {

    private final SecretsClient secrets;
    private final String where;

    TresorApi(TresorHttp http) {
        this.secrets = new SecretsClient(http);
        this.where = http.servers().toString();
    }

    public static TresorApi open(TresorConnection connection) {
        SSLContext tls;
        try {
            tls = TrustMaterial.clientContext(connection.cert(), connection.key(), connection.ca());
        } catch (RuntimeException e) {
            throw new RotationException(RotationException.Kind.CONFIG, "cannot load the rotation job's client certificate "
                    + connection.cert() + ", key " + connection.key() + " or CA " + connection.ca() + ": " + e.getMessage());
        }
        return new TresorApi(new TresorHttp(connection.servers(), TlsSource.fixed(tls), TresorHttp.Options.defaults("tresor-rotation")));
    }

    @Override
    public void close() {
        secrets.http().close();
    }

    /** The caller's identity as the server sees it (a cheap reachability and authentication check). */
    public JsonNode whoami() {
        return call("whoami", secrets::whoami);
    }

    /**
     * Reads {@code current} and any outstanding {@code pending} version of a secret and parses both
     * with {@code parser} (given the value and a description naming the secret and version).
     */
    public <T> SecretState<T> state(String name, BiFunction<byte[], String, T> parser) {
        SecretValue current = read(name, "current").orElseThrow(() -> new RotationException(RotationException.Kind.STATE,
                "secret '" + name + "' has no version labelled current; store the initial value with"
                        + " `tresor secret put " + name + " - --group GROUP`"));
        Optional<Versioned<T>> pending = Optional.empty();
        Optional<SecretValue> rawPending = read(name, "pending");
        if (rawPending.isPresent() && rawPending.get().version() > current.version()) {
            SecretValue p = rawPending.get();
            pending = Optional.of(new Versioned<>(p.version(), parse(parser, p, name)));
        } else {
            rawPending.ifPresent(SecretValue::wipe);
        }
        return new SecretState<>(name, new Versioned<>(current.version(), parse(parser, current, name)), pending);
    }

    private static <T> T parse(BiFunction<byte[], String, T> parser, SecretValue raw, String name) {
        try {
            return parser.apply(raw.value(), "secret " + name + " v" + raw.version());
        } finally {
            raw.wipe();
        }
    }

    private Optional<SecretValue> read(String name, String label) {
        return call("read " + name + " (label " + label + ")", () -> secrets.find(name, label));
    }

    /** The groups of a secret, as its metadata shows them to this caller (empty if it cannot see it). */
    public List<String> groupsOf(String name) {
        return call("list " + name, () -> secrets.list(name)).stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .map(SecretSummary::groups)
                .orElse(List.of());
    }

    /** Adds a version with the given labels, only if {@code cas} is still the current version; returns the new version. */
    public int put(String name, byte[] value, int cas, List<String> labels) {
        return call("write " + name, () -> secrets.put(name, SecretsClient.Write.value(value).withCas(cas).withLabels(labels)));
    }

    /** Moves {@code label} to {@code version}, only if {@code cas} is still the current version. */
    public void label(String name, String label, int version, int cas) {
        call("move label " + label + " of " + name, () -> {
            secrets.moveLabel(name, label, version, cas);
            return null;
        });
    }

    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (TransportException e) {
            if (e.getCause() instanceof java.io.InterruptedIOException) {
                throw new RotationException(RotationException.Kind.FAILED, "interrupted while talking to Tresor");
            }
            if (e.neverSent()) {
                throw new RotationException(RotationException.Kind.UNAVAILABLE, "cannot reach Tresor at " + where
                        + ": is the server running and TRESOR_ADDR right?");
            }
            throw new RotationException(RotationException.Kind.UNAVAILABLE, e.getMessage()
                    + " (is the client certificate issued by the server's CA, and TRESOR_CA the server's CA?)");
        } catch (ApiException e) {
            throw refused(what, e);
        }
    }

    private static RotationException refused(String what, ApiException e) {
        String detail = "Tresor refused to " + what + ": " + e.describe();
        return switch (e.status()) {
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
