package dev.tresor.server.bootstrap;

import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.Passphrase;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Seals a {@code local} key file by a passphrase, or re-seals it under a new one
 * ({@code tresor key passphrase}, {@code tresor init --passphrase-file}). The KEK itself does not
 * change (same key, same key id), so nothing it wraps is touched and a running server keeps
 * working; the config's {@code keyProvider} block is rewritten to say where the new passphrase is
 * read from.
 *
 * <p>Order: the key file is replaced atomically, then the config. Cut short between the two, the
 * server refuses to start with a message that names the missing field (a sealed key file with no
 * passphrase source, or the old source that no longer opens it); setting the field by hand, as the
 * error says, finishes it. The result is then opened as the server will open it.
 */
public final class KeyPassphraseChange {

    /** What a change did. */
    public record Result(Path keyFile, String keyId, boolean wasSealed, String configField) {}

    private KeyPassphraseChange() {}

    public static Result apply(Path config, Passphrase next, Map<String, String> environment) {
        ServerSettings s = ConfigLoader.load(config);
        if (s.awsKms() != null) {
            throw new ConfigException("keyProvider.kind: awskms keeps its key in AWS KMS; a passphrase seals only a "
                    + "local key file (AWS credentials come from the SDK's default chain)");
        }
        if (s.pkcs11() != null) {
            throw new ConfigException("keyProvider.kind: pkcs11 keeps its key on the token; a passphrase seals only a "
                    + "local key file (the HSM PIN is keyProvider.pinFile / pinEnv)");
        }
        Path keyFile = s.keyFile();
        KeyProvider before = s.openKeyProvider(environment);
        boolean wasSealed = s.keyPassphrase() != null;
        String text;
        try {
            text = Files.readString(config, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + config + ": " + e.getMessage(), e);
        }
        String field = next.file() != null ? "passphraseFile" : "passphraseEnv";
        String value = next.file() != null ? relativeTo(config, next.file()) : next.environmentVariable();
        String updated = withPassphraseSource(text, field, value);

        char[] oldPassphrase = wasSealed ? s.keyPassphrase().read(environment) : null;
        char[] newPassphrase = next.read(environment);
        try {
            try {
                Passphrase.requireStrongEnough(newPassphrase, next.source());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(e.getMessage());
            }
            LocalKeyProvider after = LocalKeyProvider.reseal(keyFile, oldPassphrase, newPassphrase);
            if (!after.keyId().equals(before.keyId())) {
                throw new IllegalStateException("the re-sealed key file holds " + after.keyId() + ", not " + before.keyId());
            }
        } finally {
            if (oldPassphrase != null) {
                Arrays.fill(oldPassphrase, '\0');
            }
            Arrays.fill(newPassphrase, '\0');
        }
        try {
            ConfigEdits.writeAtomically(config, updated);
        } catch (IOException e) {
            throw new UncheckedIOException("key file " + keyFile + " is sealed under the new passphrase, but " + config
                    + " could not be rewritten (" + e.getMessage() + "); set keyProvider." + field + ": " + value
                    + " in it by hand", e);
        }
        // Prove the result opens as the server will open it.
        ServerSettings reloaded = ConfigLoader.load(config);
        KeyProvider opened = reloaded.openKeyProvider(environment);
        if (!opened.keyId().equals(before.keyId())) {
            throw new IllegalStateException("the config now opens " + opened.keyId() + ", not " + before.keyId());
        }
        return new Result(keyFile, before.keyId(), wasSealed, "keyProvider." + field + ": " + value);
    }

    /**
     * The config text with {@code keyProvider.<field>: value} as the only passphrase source: any
     * earlier {@code passphraseFile}/{@code passphraseEnv} line of the block is replaced.
     */
    public static String withPassphraseSource(String yaml, String field, String value) {
        return ConfigEdits.withKeyProviderField(yaml, field, value, "passphraseFile", "passphraseEnv");
    }

    private static String relativeTo(Path config, Path file) {
        Path base = config.toAbsolutePath().getParent();
        Path absolute = file.toAbsolutePath().normalize();
        return absolute.startsWith(base) ? base.relativize(absolute).toString() : absolute.toString();
    }

}
