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
                    + "(tresor key adopt is for local key files)");
        }
        if (s.pkcs11() != null) {
            throw new ConfigException("keyProvider.kind: pkcs11 nodes adopt a rotated KEK by its label: set "
                    + "keyProvider.keyLabel to the new label; the audit chain keys of this node then open with the old "
                    + "key only (tresor key adopt is for local key files)");
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
        Optional<String> wrappedBy;
        try (Store store = Stores.open(s.store())) {
            wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        }
        if (wrappedBy.isEmpty() || !wrappedBy.get().equals(next.keyId())) {
            throw new ConfigException("keyProvider.path: the store's keyring is wrapped by " + wrappedBy.orElse("nothing yet")
                    + ", not by " + next.keyId() + " (the key file at keyProvider.path); copy the key file of the node "
                    + "that rotated the KEK there first");
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
