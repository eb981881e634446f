package dev.tresor.server.bootstrap;

import dev.tresor.audit.ChainKeys;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.Store;
import dev.tresor.store.Stores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The other nodes' part of an online KEK rotation ({@code tresor key adopt}), run on a node whose
 * server is stopped, after the rotated key file was copied to its {@code keyProvider.path}: this
 * node's own files that the old KEK still wraps are re-wrapped under the new one, i.e. the chain
 * keys of its audit logs (into {@code tresor-audit-keys.jsonl} beside them; the logs are not
 * touched), its CA key and any retired CA keys. The store is only read, to check that its keyring
 * is wrapped by the new KEK: adopting any other key would be a mistake.
 *
 * <p>Running it twice does no harm: what already opens with the new KEK is left as it is.
 */
public final class KekAdoption {

    /** What an adoption did. */
    public record Result(String fromKekId, String toKekId, int auditChainKeys, List<Path> caKeys) {}

    private KekAdoption() {}

    public static Result adopt(Path config, Path oldKeyFile, Map<String, String> environment) {
        ServerSettings s = ConfigLoader.load(config);
        if (s.awsKms() != null) {
            throw new ConfigException("keyProvider.kind: awskms nodes share one KMS key, so there is nothing to adopt "
                    + "after a KEK rotation; after a key migrate, name the provider from before it: "
                    + "tresor key adopt --from-provider OLD.yaml");
        }
        if (s.pkcs11() != null) {
            throw new ConfigException("keyProvider.kind: pkcs11 nodes adopt a rotated KEK by its label: set "
                    + "keyProvider.keyLabel to the new label and run tresor key adopt --from-provider OLD.yaml with the "
                    + "keyProvider block that names the old label");
        }
        KeyProvider next = s.openKeyProvider(environment);
        KeyProvider old;
        try {
            old = s.openLocal(oldKeyFile, environment);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--from: " + e.getMessage());
        }
        if (old.keyId().equals(next.keyId())) {
            throw new ConfigException("--from: " + oldKeyFile + " holds the same KEK as keyProvider.path (" + next.keyId()
                    + "); give the key file from before the rotation");
        }
        return rewrap(s, old, next);
    }

    /**
     * As {@link #adopt(Path, Path, Map)} for any provider: after {@code tresor key migrate} (or a
     * pkcs11 KEK rotation) on another node, this node's config names the new provider and
     * {@code oldProviderSpec} is the {@code keyProvider:} block it named before (the form
     * {@code tresor key init} prints and {@code key migrate --to} takes). The old provider is opened
     * as a start would open it, from this node's config with that block swapped in (in memory).
     */
    public static Result adoptFrom(Path config, String oldProviderSpec, Map<String, String> environment) {
        ServerSettings s = ConfigLoader.load(config);
        KeyProvider next = s.openKeyProvider(environment);
        KeyProvider old = openFromSpec(config, oldProviderSpec, environment);
        if (old.keyId().equals(next.keyId())) {
            throw new ConfigException("--from-provider: that keyProvider block holds the same KEK as this node's config ("
                    + next.keyId() + "); give the block from before the migration or rotation");
        }
        return rewrap(s, old, next);
    }

    private static KeyProvider openFromSpec(Path config, String spec, Map<String, String> environment) {
        try {
            String text = ConfigEdits.withKeyProviderBlock(Files.readString(config, java.nio.charset.StandardCharsets.UTF_8), spec);
            // Resolved against the config's folder, so the block's relative paths (key file, PIN file) mean what they meant there.
            return ConfigLoader.parse(text, config.toAbsolutePath().getParent()).openKeyProvider(environment);
        } catch (ConfigException | IllegalArgumentException | IllegalStateException e) {
            throw new ConfigException("--from-provider: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private static Result rewrap(ServerSettings s, KeyProvider old, KeyProvider next) {
        Optional<String> wrappedBy;
        try (Store store = Stores.open(s.store())) {
            wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        }
        if (wrappedBy.isEmpty() || !wrappedBy.get().equals(next.keyId())) {
            throw new ConfigException("keyProvider: the store's keyring is wrapped by " + wrappedBy.orElse("nothing yet")
                    + ", not by " + next.keyId() + " (the KEK this node's config names); give this node the key file or "
                    + "keyProvider block of the node that rotated or migrated the KEK first");
        }
        int chains = 0;
        List<Path> caKeys = new ArrayList<>();
        try {
            for (Path log : s.auditFiles()) {
                chains += ChainKeys.rewrap(log, old, next);
            }
            if (s.caKey() != null && resealed(s.caKey(), Pem.readCertificate(s.caCert()), old, next)) {
                caKeys.add(s.caKey());
            }
            for (ServerSettings.RetiredCa r : s.caPrevious()) {
                if (Files.exists(r.keyFile()) && resealed(r.keyFile(), Pem.readCertificate(r.cert()), old, next)) {
                    caKeys.add(r.keyFile());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return new Result(old.keyId(), next.keyId(), chains, List.copyOf(caKeys));
    }

    /** Re-seals a CA key under {@code next} unless it opens with it already; true if it was re-sealed. */
    private static boolean resealed(Path key, X509Certificate cert, KeyProvider old, KeyProvider next) {
        try {
            SealedCaKey.open(key, cert, next);
            return false;
        } catch (RuntimeException underOld) {
            SealedCaKey.rewrap(key, cert, old, next);
            return true;
        }
    }
}
