package dev.tresor.server;

import dev.tresor.Tresor;
import dev.tresor.audit.ChainKeys;
import dev.tresor.ca.Pem;
import dev.tresor.ca.SealedCaKey;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.crypto.awskms.AwsKmsKeyProvider;
import dev.tresor.server.bootstrap.ConfigEdits;
import dev.tresor.keys.KeyringChanges;
import dev.tresor.model.Failure;
import dev.tresor.model.TresorException;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.store.Rows.KeyringRow;
import dev.tresor.store.Store;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online KEK rotation ({@code tresor key rotate --kek}, {@code POST /v1/keys/rotate}) for the
 * {@code local} provider, run inside the server that holds the key file:
 *
 * <ol>
 *   <li>a new key file is generated beside the old one ({@code <keyProvider.path>.next}, 0600);</li>
 *   <li>this node's audit chain keys are re-wrapped under it beside the logs ({@link ChainKeys});</li>
 *   <li>the CA key is sealed under it into {@code <ca.key>.next}, and so is each retired CA key
 *       still on disk ({@code ca-retired-<serial>.key}, which signs that CA's CRL);</li>
 *   <li>the keyring is re-wrapped under it in one transaction, which also re-seals the store head
 *       (the commit point; O(1), other nodes keep working, see {@code KeyringHolder});</li>
 *   <li>{@code <ca.key>.next} and then {@code <keyProvider.path>.next} replace the old files
 *       atomically: the old KEK is gone, and the config does not change.</li>
 * </ol>
 *
 * Before the commit a failure removes the {@code .next} files and changes nothing else (a written
 * audit key copy is harmless); after it, a start finds the {@code .next} files and finishes the
 * swap ({@link #finishInterrupted}), because the keyring row then names the new KEK.
 */
public final class KekRotation {

    private static final Logger LOG = LoggerFactory.getLogger(KekRotation.class);

    /** The config as it stands: a migration to another provider replaces it (and the config file). */
    private volatile ServerSettings settings;
    private final Tresor tresor;
    private final Map<String, String> environment;

    public KekRotation(ServerSettings settings, Tresor tresor) {
        this(settings, tresor, System.getenv());
    }

    /** {@code environment}: where the key provider's secrets are read (as the server was started with). */
    public KekRotation(ServerSettings settings, Tresor tresor, Map<String, String> environment) {
        this.settings = settings;
        this.tresor = tresor;
        this.environment = Map.copyOf(environment);
    }

    /** Where a rotation writes the next version of {@code file} before moving it into place. */
    static Path next(Path file) {
        return file.resolveSibling(file.getFileName() + ".next");
    }

    public Map<String, Object> status() {
        KeyringChanges.Status st = tresor.keyringChanges().status();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("provider", settings.keyProviderKind());
        out.put("kekId", st.kekId());
        out.put("kekInUse", tresor.keyProvider().keyId());
        out.put("keyringVersion", st.keyringVersion());
        out.put("primaryKeyId", st.primaryKeyId());
        out.put("keys", st.keys());
        out.put("dataKeys", st.dataKeysByKeyId());
        out.put("updatedAt", st.updatedAt().toString());
        return out;
    }

    /**
     * Where a rotation's new KEK comes from and how it is put in place once the keyring is
     * re-wrapped: a new key file that replaces the old one ({@code local}), or a new key on the HSM
     * token whose label replaces the old one in the config ({@code pkcs11}).
     */
    private interface NextKek {
        /** Makes the new KEK; before the commit point. */
        KeyProvider create() throws IOException;

        /** Undoes {@link #create} as far as it can (before the commit point). */
        void discard();

        /** Puts the new KEK in place of the old one (after the commit point). */
        void install() throws IOException;

        /** What to tell the operator about where the new KEK is. */
        String where();
    }

    public Map<String, Object> rotateKek() {
        return rotateKek(null);
    }

    /**
     * As {@link #rotateKek()}; {@code newKeyId} names the KMS key to move to (awskms only, where it
     * is required: Tresor does not create KMS keys).
     */
    public synchronized Map<String, Object> rotateKek(String newKeyId) {
        if (settings.awsKms() != null && (newKeyId == null || newKeyId.isBlank())) {
            throw TresorException.badRequest("keyProvider.kind awskms: name the KMS key to move to (tresor key rotate "
                    + "--kek --key-id ARN|alias/NAME; {\"kek\": true, \"keyId\": ...}); AWS KMS automatic key rotation "
                    + "(same key ARN) needs nothing from Tresor");
        }
        if (settings.awsKms() == null && newKeyId != null) {
            throw TresorException.badRequest("keyId names a KMS key: only for keyProvider.kind awskms (this server's is "
                    + settings.keyProviderKind() + ")");
        }
        NextKek next = settings.awsKms() != null ? nextKmsKey(newKeyId.strip())
                : settings.pkcs11() != null ? nextTokenKey() : nextKeyFile();
        Moved moved = move(next);
        KeyringChanges.Change change = moved.change();
        Map<String, Object> out = moved.summary();
        if (settings.awsKms() != null) {
            out.put("keyId", newKeyId.strip());
        } else if (settings.pkcs11() != null) {
            out.put("keyLabel", change.toKekId().substring("pkcs11:".length()));
        } else {
            out.put("keyFile", settings.keyFile().toString());
        }
        return out;
    }

    /** What {@link #move} did, and the summary both a rotation and a migration answer with. */
    private record Moved(KeyringChanges.Change change, Map<String, Object> summary) {}

    /**
     * The steps a KEK rotation and a migration share: everything the old KEK wraps (audit chain
     * keys, CA keys, then the keyring: the commit point) is re-wrapped under the KEK {@code next}
     * makes, which is then put in place.
     */
    private Moved move(NextKek next) {
        KeyProvider oldKek = tresor.keyProvider();
        Path nextCa = settings.caKey() == null ? null : next(settings.caKey());
        // ca.previous as the config says now: an online CA rollover since the start added to it.
        List<ServerSettings.RetiredCa> retiredKeys = retiredKeys(settings.configFile() == null ? settings
                : dev.tresor.server.config.ConfigLoader.load(settings.configFile()));
        KeyringChanges.Change change;
        int chains = 0;
        try {
            if (nextCa != null) {
                Files.deleteIfExists(nextCa);
            }
            for (ServerSettings.RetiredCa r : retiredKeys) {
                Files.deleteIfExists(next(r.keyFile()));
            }
            KeyProvider newKek = next.create();
            for (Path log : settings.auditFiles()) {
                chains += ChainKeys.rewrap(log, oldKek, newKek);
            }
            if (nextCa != null) {
                X509Certificate cert = Pem.readCertificate(settings.caCert());
                PrivateKey key = SealedCaKey.open(settings.caKey(), cert, oldKek);
                SealedCaKey.write(nextCa, key, cert, newKek);
            }
            for (ServerSettings.RetiredCa r : retiredKeys) {
                X509Certificate cert = Pem.readCertificate(r.cert());
                SealedCaKey.write(next(r.keyFile()), SealedCaKey.open(r.keyFile(), cert, oldKek), cert, newKek);
            }
            change = tresor.keyringChanges().rewrapUnder(newKek);
        } catch (IOException | RuntimeException e) {
            next.discard();
            if (nextCa != null) {
                deleteQuietly(nextCa);
            }
            for (ServerSettings.RetiredCa r : retiredKeys) {
                deleteQuietly(next(r.keyFile()));
            }
            if (e instanceof TresorException t) {
                throw t;
            }
            throw new TresorException(Failure.UNAVAILABLE, "the KEK rotation failed before it changed the keyring, and "
                    + "nothing was changed: " + e.getMessage());
        }
        try {
            swapIn(nextCa, settings.caKey());
            for (ServerSettings.RetiredCa r : retiredKeys) {
                swapIn(next(r.keyFile()), r.keyFile());
            }
            next.install();
        } catch (IOException e) {
            throw new TresorException(Failure.UNAVAILABLE, "the keyring is re-wrapped under KEK " + change.toKekId()
                    + ", but putting it in place failed (" + e.getMessage() + "); the next start of this server finishes "
                    + "it. Do not delete " + next.where());
        }
        LOG.info("KEK rotated: keyring version {} now wrapped by {} (was {}); {} audit chain key(s) and {} re-wrapped; "
                        + "{}", change.after().version(), change.toKekId(), change.fromKekId(),
                chains, nextCa == null ? "no CA key" : "the CA key", next.where());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fromKekId", change.fromKekId());
        out.put("toKekId", change.toKekId());
        out.put("keyringVersion", change.after().version());
        out.put("auditChainKeys", chains);
        out.put("caKey", nextCa != null);
        out.put("retiredCaKeys", retiredKeys.size());
        return new Moved(change, out);
    }

    /**
     * {@code tresor key migrate --to SPEC} ({@code POST /v1/keys/migrate}): moves the store's KEK to
     * another key provider (local, local sealed by a passphrase, pkcs11, awskms), online, as a KEK
     * rotation across providers. {@code spec} is a {@code keyProvider:} block as {@code tresor key
     * init} prints it; its paths are read as the config's are. Steps:
     *
     * <ol>
     *   <li>the config with the new block is written to {@code <config>.migrate-next} (0600), headed
     *       by the KEK id it names, and opened as the server will open it: a bad spec, wrong
     *       credentials or an unreachable HSM or KMS refuse here, changing nothing (a {@code local}
     *       spec whose key file does not exist yet gets a new key there, sealed if it names a
     *       passphrase);</li>
     *   <li>audit chain keys and CA keys are re-wrapped, then the keyring (the commit point, recorded
     *       in the store as the keyring row's KEK id and version), as in a KEK rotation;</li>
     *   <li>{@code <config>.migrate-next} replaces the config; the old provider's key is left as it is.</li>
     * </ol>
     *
     * A start finds a left {@code .migrate-next} and finishes or undoes it by the KEK id in the
     * store ({@link #finishInterruptedMigration}), so a cut at any point leaves a store that opens
     * with the old provider or the new one.
     */
    public synchronized Map<String, Object> migrate(String spec) {
        if (spec == null || spec.isBlank()) {
            throw TresorException.badRequest("name the key provider to migrate to: {\"to\": \"keyProvider:\\n  kind: ...\"} "
                    + "(tresor key migrate --to FILE, a keyProvider block as tresor key init prints it)");
        }
        if (settings.configFile() == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server was not started from a config file, so it cannot "
                    + "record the new key provider in it");
        }
        String fromKind = settings.keyProviderKind();
        NextKek next = nextProvider(spec);
        Moved moved = move(next);
        settings = dev.tresor.server.config.ConfigLoader.load(settings.configFile());
        Map<String, Object> out = moved.summary();
        out.put("fromProvider", fromKind);
        out.put("toProvider", settings.keyProviderKind());
        out.put("config", settings.configFile().toString());
        return out;
    }

    private static final String MIGRATION_HEADER = "# tresor key migrate: the keyring moves to KEK ";

    /** Where a migration writes the config naming the new provider before it replaces the config. */
    static Path migrationMarker(Path config) {
        return config.resolveSibling(config.getFileName() + ".migrate-next");
    }

    private NextKek nextProvider(String spec) {
        Path config = settings.configFile();
        Path marker = migrationMarker(config);
        Path[] createdKeyFile = new Path[1];
        String[] text = new String[1];
        String[] toKind = new String[1];
        return new NextKek() {
            @Override
            public KeyProvider create() throws IOException {
                String updated;
                try {
                    updated = ConfigEdits.withKeyProviderBlock(Files.readString(config,
                            java.nio.charset.StandardCharsets.UTF_8), spec);
                } catch (dev.tresor.server.config.ConfigException e) {
                    throw TresorException.badRequest("--to: " + e.getMessage() + "; nothing changed");
                }
                Files.deleteIfExists(marker);
                ConfigEdits.writeAtomically(touch(marker), updated);
                ServerSettings target;
                KeyProvider created;
                try {
                    createdKeyFile[0] = newLocalKeyFile(config.toAbsolutePath().getParent(), spec, environment);
                    target = dev.tresor.server.config.ConfigLoader.load(marker);
                    if (target.keyPassphrase() != null && target.keyPassphrase().prompt() != null) {
                        throw new IllegalArgumentException("key file " + target.keyFile() + " is sealed by a passphrase: "
                                + "a migration runs inside the server, which asks no terminal, so name "
                                + "keyProvider.passphraseFile or keyProvider.passphraseEnv in the spec");
                    }
                    created = target.openKeyProvider(environment);
                } catch (dev.tresor.server.config.ConfigException | IllegalArgumentException | IllegalStateException e) {
                    throw TresorException.badRequest("--to: the key provider to migrate to cannot be used: "
                            + e.getMessage() + "; nothing changed");
                }
                if (created.keyId().equals(tresor.keyProvider().keyId())) {
                    throw TresorException.badRequest("--to: that key provider holds the KEK in use already ("
                            + created.keyId() + "); name another key; nothing changed");
                }
                toKind[0] = target.keyProviderKind();
                text[0] = updated;
                ConfigEdits.writeAtomically(marker, MIGRATION_HEADER + created.keyId() + "\n" + updated);
                syncFile(marker);
                return created;
            }

            @Override
            public void discard() {
                deleteQuietly(marker);
                if (createdKeyFile[0] != null) {
                    deleteQuietly(createdKeyFile[0]);
                }
            }

            @Override
            public void install() throws IOException {
                ConfigEdits.writeAtomically(config, text[0]);
                Files.deleteIfExists(marker);
                syncDirectory(config.toAbsolutePath().getParent());
            }

            @Override
            public String where() {
                return "keyProvider in " + config + " is now the " + toKind[0] + " block (the old provider's key is left "
                        + "as it is)";
            }
        };
    }

    /**
     * A {@code local} spec naming a key file that does not exist yet: a new KEK is created there
     * (0600; sealed by the spec's passphrase, which must be strong enough, if it names one). Returns
     * the file made, or null if the spec is not local or its file exists (it is then opened as is).
     */
    private static Path newLocalKeyFile(Path base, String spec, Map<String, String> environment) throws IOException {
        com.fasterxml.jackson.databind.JsonNode block;
        try {
            block = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                    .readTree(spec).path("keyProvider");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the provider spec is not valid YAML: " + e.getOriginalMessage());
        }
        String kind = block.path("kind").asText("local");
        if (!"local".equals(kind) || !block.path("path").isTextual()) {
            return null;
        }
        Path file = base.resolve(block.path("path").asText()).normalize();
        if (Files.exists(file)) {
            return null;
        }
        dev.tresor.crypto.Passphrase passphrase = block.path("passphraseFile").isTextual()
                ? dev.tresor.crypto.Passphrase.fromFile(base.resolve(block.path("passphraseFile").asText()).normalize())
                : block.path("passphraseEnv").isTextual()
                ? dev.tresor.crypto.Passphrase.fromEnvironment(block.path("passphraseEnv").asText()) : null;
        if (passphrase == null) {
            LocalKeyProvider.create(file);
        } else {
            char[] chars = passphrase.read(environment);
            try {
                dev.tresor.crypto.Passphrase.requireStrongEnough(chars, passphrase.source());
                LocalKeyProvider.createSealed(file, chars);
            } finally {
                java.util.Arrays.fill(chars, '\0');
            }
        }
        syncFile(file);
        return file;
    }

    /**
     * At start, before any KEK is opened: a {@code <config>.migrate-next} left by a migration
     * ({@link #migrate}) is finished if the store's keyring is wrapped by the KEK it names (the
     * commit happened: the CA key files move into place and it replaces the config), and removed
     * otherwise (nothing changed). Opens no KEK (the store's keyring row says which KEK wraps it),
     * so a migration away from an HSM or KMS that is now unreachable still finishes. Returns the
     * settings to start with.
     */
    public static ServerSettings finishInterruptedMigration(ServerSettings s) throws IOException {
        if (s.configFile() == null || !Files.exists(migrationMarker(s.configFile()))) {
            return s;
        }
        Path marker = migrationMarker(s.configFile());
        String text = Files.readString(marker, java.nio.charset.StandardCharsets.UTF_8);
        int eol = text.indexOf('\n');
        String toKekId = text.startsWith(MIGRATION_HEADER) && eol > 0
                ? text.substring(MIGRATION_HEADER.length(), eol).strip() : null;
        Optional<String> wrappedBy;
        try (Store store = dev.tresor.store.Stores.open(s.store())) {
            wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        }
        Path nextCa = s.caKey() == null ? null : next(s.caKey());
        if (toKekId != null && wrappedBy.isPresent() && wrappedBy.get().equals(toKekId)) {
            swapInNextCaKeys(s, nextCa);
            ConfigEdits.writeAtomically(s.configFile(), text.substring(eol + 1));
            Files.deleteIfExists(marker);
            LOG.warn("finished an interrupted key migration: the keyring is wrapped by {}, and {} now names its provider",
                    toKekId, s.configFile());
            return dev.tresor.server.config.ConfigLoader.load(s.configFile());
        }
        deleteNextCaKeys(s, nextCa);
        Files.deleteIfExists(marker);
        LOG.warn("removed {} left by a key migration that did not change the keyring (still wrapped by {}); a key file it "
                + "created is unused", marker, wrappedBy.orElse("nothing"));
        return s;
    }

    private NextKek nextKeyFile() {
        Path keyFile = settings.keyFile();
        Path nextKey = next(keyFile);
        return new NextKek() {
            @Override
            public KeyProvider create() throws IOException {
                Files.deleteIfExists(nextKey);
                LocalKeyProvider created = settings.createLocal(nextKey, System.getenv());
                syncFile(nextKey);
                return created;
            }

            @Override
            public void discard() {
                deleteQuietly(nextKey);
            }

            @Override
            public void install() throws IOException {
                swapIn(nextKey, keyFile);
            }

            @Override
            public String where() {
                return "the old key file " + keyFile + " is replaced (via " + nextKey + ")";
            }
        };
    }

    /**
     * {@code pkcs11}: a new non-extractable key on the same token under the next label
     * ({@code tresor-kek-1} → {@code tresor-kek-2}), named in {@code <config>.kek-next} until the
     * config's {@code keyProvider.keyLabel} names it. The old key stays on the token (an HSM key is
     * destroyed by its officer, not by Tresor); nothing opens the keyring with it any more.
     */
    private NextKek nextTokenKey() {
        if (settings.configFile() == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server was not started from a config file, so it cannot "
                    + "record the new key label in keyProvider.keyLabel");
        }
        Path marker = pkcs11Marker(settings);
        String[] label = new String[1];
        return new NextKek() {
            @Override
            public KeyProvider create() throws IOException {
                ServerSettings current = dev.tresor.server.config.ConfigLoader.load(settings.configFile());
                Pkcs11KeyProvider.Settings now = current.pkcs11().settings();
                label[0] = nextLabel(now.keyLabel());
                Pkcs11KeyProvider.Settings fresh = new Pkcs11KeyProvider.Settings(now.library(), now.slot(),
                        now.slotListIndex(), label[0]);
                Pkcs11KeyProvider.generateKey(fresh, current.pkcs11().pin(), System.getenv());
                ConfigEdits.writeAtomically(touch(marker), label[0] + "\n");
                return Pkcs11KeyProvider.open(fresh, current.pkcs11().pin(), System.getenv());
            }

            @Override
            public void discard() {
                deleteQuietly(marker);
            }

            @Override
            public void install() throws IOException {
                setKeyLabel(settings.configFile(), label[0]);
                Files.deleteIfExists(marker);
            }

            @Override
            public String where() {
                return "keyProvider.keyLabel is now '" + label[0] + "' in " + settings.configFile()
                        + " (the old key stays on the token)";
            }
        };
    }

    /**
     * {@code awskms}: the KMS key the operator named (Tresor creates no KMS keys), proven usable at
     * once (DescribeKey and a round trip), recorded in {@code <config>.kek-next} (its ARN, then the
     * id as given) until the config's {@code keyProvider.keyId} names it. The old KMS key is left as
     * it is: disable it, or schedule its deletion, once every node runs on the new one.
     */
    private NextKek nextKmsKey(String keyId) {
        if (settings.configFile() == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server was not started from a config file, so it cannot "
                    + "record the new key in keyProvider.keyId");
        }
        Path marker = pkcs11Marker(settings);
        return new NextKek() {
            @Override
            public KeyProvider create() throws IOException {
                AwsKmsKeyProvider.Settings now = dev.tresor.server.config.ConfigLoader.load(settings.configFile()).awsKms();
                AwsKmsKeyProvider created;
                try {
                    created = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(keyId, now.region(), now.endpoint()),
                            environment);
                } catch (IllegalStateException e) {
                    throw TresorException.badRequest("the KMS key " + keyId + " cannot be used: " + e.getMessage()
                            + "; nothing changed");
                }
                if (created.keyId().equals(tresor.keyProvider().keyId())) {
                    throw TresorException.badRequest("the KMS key " + keyId + " is the KEK in use already ("
                            + created.keyId() + "); name another key");
                }
                ConfigEdits.writeAtomically(touch(marker), created.keyId().substring(AWSKMS.length()) + "\n" + keyId + "\n");
                return created;
            }

            @Override
            public void discard() {
                deleteQuietly(marker);
            }

            @Override
            public void install() throws IOException {
                setKeyProviderField(settings.configFile(), "keyId", keyId);
                Files.deleteIfExists(marker);
            }

            @Override
            public String where() {
                return "keyProvider.keyId is now '" + keyId + "' in " + settings.configFile()
                        + " (the old KMS key is left as it is)";
            }
        };
    }

    private static final String AWSKMS = "awskms:";

    /** {@code tresor-kek-1} → {@code tresor-kek-2}; {@code kek} → {@code kek-2}. */
    static String nextLabel(String label) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.*-)(\\d{1,9})").matcher(label);
        if (m.matches()) {
            return m.group(1) + (Long.parseLong(m.group(2)) + 1);
        }
        return label + "-2";
    }

    private static Path pkcs11Marker(ServerSettings s) {
        return s.configFile().resolveSibling(s.configFile().getFileName() + ".kek-next");
    }

    private static Path touch(Path file) throws IOException {
        if (!Files.exists(file)) {
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        }
        return file;
    }

    private static void setKeyLabel(Path config, String label) throws IOException {
        setKeyProviderField(config, "keyLabel", label);
    }

    private static void setKeyProviderField(Path config, String field, String value) throws IOException {
        String text = Files.readString(config, java.nio.charset.StandardCharsets.UTF_8);
        ConfigEdits.writeAtomically(config, ConfigEdits.withKeyProviderField(text, field, value));
    }

    /**
     * At start, before the configured KEK is used: a {@code local} rotation that committed the
     * keyring but did not move its files into place is finished (the keyring row names the KEK in
     * {@code <path>.next}); one that did not commit has its {@code .next} files removed. Returns the
     * KEK to run with.
     */
    public static KeyProvider finishInterrupted(ServerSettings s, KeyProvider configured, Store store) throws IOException {
        return finishInterrupted(s, configured, store, System.getenv());
    }

    /** As above, with the key provider's secrets read from {@code environment}. */
    public static KeyProvider finishInterrupted(ServerSettings s, KeyProvider configured, Store store,
                                                Map<String, String> environment) throws IOException {
        if (s.awsKms() != null) {
            return finishInterruptedAwsKms(s, configured, store, environment);
        }
        if (s.pkcs11() != null) {
            return finishInterruptedPkcs11(s, configured, store);
        }
        Path nextKey = next(s.keyFile());
        if (!Files.exists(nextKey)) {
            return configured;
        }
        Path nextCa = s.caKey() == null ? null : next(s.caKey());
        LocalKeyProvider candidate = s.openLocal(nextKey, System.getenv());
        Optional<String> wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        if (wrappedBy.isPresent() && wrappedBy.get().equals(candidate.keyId())
                && !wrappedBy.get().equals(configured.keyId())) {
            if (nextCa != null && Files.exists(nextCa)) {
                swapIn(nextCa, s.caKey());
            }
            for (ServerSettings.RetiredCa r : s.caPrevious()) {
                if (Files.exists(next(r.keyFile()))) {
                    swapIn(next(r.keyFile()), r.keyFile());
                }
            }
            swapIn(nextKey, s.keyFile());
            LOG.warn("finished an interrupted KEK rotation: {} replaced {} (the keyring is wrapped by {})", nextKey,
                    s.keyFile(), candidate.keyId());
            return s.openLocal(s.keyFile(), System.getenv());
        }
        Files.deleteIfExists(nextKey);
        if (nextCa != null) {
            Files.deleteIfExists(nextCa);
        }
        for (ServerSettings.RetiredCa r : s.caPrevious()) {
            Files.deleteIfExists(next(r.keyFile()));
        }
        LOG.warn("removed {} left by a KEK rotation that did not change the keyring", nextKey);
        return configured;
    }

    /**
     * {@code pkcs11}: {@code <config>.kek-next} names the label a rotation made. If the keyring is
     * wrapped by that key, the rotation committed: the CA key files are moved into place and the
     * config's {@code keyLabel} set; otherwise the marker and the {@code .next} files are removed
     * (the unused key stays on the token, and the log says so).
     */
    private static KeyProvider finishInterruptedPkcs11(ServerSettings s, KeyProvider configured, Store store)
            throws IOException {
        if (s.configFile() == null || !Files.exists(pkcs11Marker(s))) {
            return configured;
        }
        String label = Files.readString(pkcs11Marker(s), java.nio.charset.StandardCharsets.UTF_8).strip();
        Path nextCa = s.caKey() == null ? null : next(s.caKey());
        Optional<String> wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        if (wrappedBy.isPresent() && wrappedBy.get().equals("pkcs11:" + label) && !wrappedBy.get().equals(configured.keyId())) {
            Pkcs11KeyProvider.Settings now = s.pkcs11().settings();
            KeyProvider next = Pkcs11KeyProvider.open(new Pkcs11KeyProvider.Settings(now.library(), now.slot(),
                    now.slotListIndex(), label), s.pkcs11().pin(), System.getenv());
            swapInNextCaKeys(s, nextCa);
            setKeyLabel(s.configFile(), label);
            Files.deleteIfExists(pkcs11Marker(s));
            LOG.warn("finished an interrupted KEK rotation: keyProvider.keyLabel is now '{}' (the keyring is wrapped by {})",
                    label, wrappedBy.get());
            return next;
        }
        deleteNextCaKeys(s, nextCa);
        Files.deleteIfExists(pkcs11Marker(s));
        LOG.warn("removed the marker of a KEK rotation that did not change the keyring; the token key '{}' it made is "
                + "unused (delete it with the token's tools if you like)", label);
        return configured;
    }

    /**
     * {@code awskms}: {@code <config>.kek-next} names the KMS key a rotation moved to (its ARN, then
     * the id as the operator gave it). If the keyring is wrapped by that key, the rotation committed:
     * the CA key files are moved into place and the config's {@code keyId} set; otherwise the
     * marker and the {@code .next} files are removed.
     */
    private static KeyProvider finishInterruptedAwsKms(ServerSettings s, KeyProvider configured, Store store,
                                                       Map<String, String> environment) throws IOException {
        if (s.configFile() == null || !Files.exists(pkcs11Marker(s))) {
            return configured;
        }
        List<String> lines = Files.readAllLines(pkcs11Marker(s), java.nio.charset.StandardCharsets.UTF_8);
        Path nextCa = s.caKey() == null ? null : next(s.caKey());
        Optional<String> wrappedBy = store.read(r -> r.keyring().map(KeyringRow::kekId));
        if (lines.size() >= 2 && wrappedBy.isPresent() && wrappedBy.get().equals(AWSKMS + lines.get(0).strip())
                && !wrappedBy.get().equals(configured.keyId())) {
            String keyId = lines.get(1).strip();
            KeyProvider next = AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(lines.get(0).strip(),
                    s.awsKms().region(), s.awsKms().endpoint()), environment);
            swapInNextCaKeys(s, nextCa);
            setKeyProviderField(s.configFile(), "keyId", keyId);
            Files.deleteIfExists(pkcs11Marker(s));
            LOG.warn("finished an interrupted KEK rotation: keyProvider.keyId is now '{}' (the keyring is wrapped by {})",
                    keyId, wrappedBy.get());
            return next;
        }
        deleteNextCaKeys(s, nextCa);
        Files.deleteIfExists(pkcs11Marker(s));
        LOG.warn("removed the marker of a KEK rotation that did not change the keyring; the KMS key it named is unused");
        return configured;
    }

    private static void swapInNextCaKeys(ServerSettings s, Path nextCa) throws IOException {
        if (nextCa != null && Files.exists(nextCa)) {
            swapIn(nextCa, s.caKey());
        }
        for (ServerSettings.RetiredCa r : s.caPrevious()) {
            if (Files.exists(next(r.keyFile()))) {
                swapIn(next(r.keyFile()), r.keyFile());
            }
        }
    }

    private static void deleteNextCaKeys(ServerSettings s, Path nextCa) throws IOException {
        if (nextCa != null) {
            Files.deleteIfExists(nextCa);
        }
        for (ServerSettings.RetiredCa r : s.caPrevious()) {
            Files.deleteIfExists(next(r.keyFile()));
        }
    }

    /** The retired CA keys still on disk: each is re-sealed with the CA key. */
    private static List<ServerSettings.RetiredCa> retiredKeys(ServerSettings s) {
        return s.caPrevious().stream().filter(r -> Files.exists(r.keyFile())).toList();
    }

    private static void swapIn(Path next, Path target) throws IOException {
        if (next == null) {
            return;
        }
        Files.move(next, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(target.toAbsolutePath().getParent());
    }

    private static void syncFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems do not sync directories; the rename itself is atomic
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot remove {} after a failed KEK rotation ({}); the next start removes it", file, e.getMessage());
        }
    }
}
