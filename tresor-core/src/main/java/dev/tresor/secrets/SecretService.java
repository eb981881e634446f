package dev.tresor.secrets;

import dev.tresor.feed.ChangeKind;
import dev.tresor.feed.ChangeRecorder;
import dev.tresor.access.Caller;
import dev.tresor.cache.VerifiedRows;
import dev.tresor.crypto.Envelope;
import dev.tresor.crypto.Keyring;
import dev.tresor.keys.KeyringSource;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.integrity.SecretLedger;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Names;
import dev.tresor.model.PutSecret;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.SecretValue;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Rows.GrantRow;
import dev.tresor.store.Rows.SecretRow;
import dev.tresor.store.Rows.VersionRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConflictException;
import dev.tresor.store.StoreReader;
import dev.tresor.store.StoreWriter;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Secrets and their versions: authorisation, envelope encryption and integrity checks.
 *
 * <p>Read rule: a caller may read a secret iff they share a group with the secret's group list,
 * which is authenticated twice: by the secret row's MAC and by being bound into every version's
 * wrapped data key. Admins manage secrets but read values only through a group.
 *
 * <p>To non-admins, "does not exist" and "not yours" look the same (403), so names do not leak.
 */
public final class SecretService {

    public static final int MAX_VALUE_BYTES = 1024 * 1024;

    private final Store store;
    private final RowSeals seals;
    private final Envelope envelope = new Envelope();
    private final KeyringSource keyrings;
    private final IntegrityMonitor monitor;
    private final Clock clock;
    private final SecretLedger ledger;
    private final VerifiedRows verified;
    private final ChangeRecorder changes;

    /** @param keyrings the keyring data keys are wrapped under (current on this node; another node may change it) */
    public SecretService(Store store, RowSeals seals, SecretLedger ledger, KeyringSource keyrings, IntegrityMonitor monitor,
                         Clock clock, VerifiedRows verified) {
        this.store = store;
        this.verified = verified;
        this.changes = new ChangeRecorder(clock);
        this.seals = seals;
        this.ledger = ledger;
        this.keyrings = keyrings;
        this.monitor = monitor;
        this.clock = clock;
    }

    // ================================================================== reads

    /** Reads and decrypts one version. The caller must wipe the returned value after use. */
    public SecretValue read(Caller caller, String name, VersionSelector selector, boolean allowExpired) {
        return read(verified.current(), caller, name, selector, allowExpired);
    }

    /**
     * As {@link #read(Caller, String, VersionSelector, boolean)}, reusing the rows {@code view}
     * holds (already verified while the database has not changed since); the value is still
     * unwrapped and decrypted here, every time.
     */
    public SecretValue read(VerifiedRows.View view, Caller caller, String name, VersionSelector selector,
                            boolean allowExpired) {
        Names.secret(name);
        try {
            return readFrom(null, view, caller, name, selector, allowExpired);
        } catch (NotVerifiedYet | Suspect notFromView) {
            // Not all rows are in the view, or the view's rows disagree with each other (kept from
            // both sides of a commit): read from the store.
        }
        try {
            return store.read(r -> readFrom(r, view, caller, name, selector, allowExpired));
        } catch (Suspect suspect) {
            // Confirm under the ledger head and the secret's row lock, from the store alone: a
            // grant change may have re-wrapped keys mid-read, and a newer ledger bucket may have
            // been committed (and seen by this node) after this read's snapshot was taken.
            try {
                return store.write(w -> {
                    ledger.lockHead(w);
                    w.lockSecret(name);
                    return readFrom(w, VerifiedRows.View.NONE, caller, name, selector, allowExpired);
                });
            } catch (Suspect confirmed) {
                throw confirmed.report(monitor);
            }
        }
    }

    /** {@code r} is null to decide from verified rows alone; then a missing row throws {@link NotVerifiedYet}. */
    private SecretValue readFrom(StoreReader r, VerifiedRows.View view, Caller caller, String name,
                                 VersionSelector selector, boolean allowExpired) {
        SecretRow s = readable(r, view, caller, name);
        int version = resolve(s, selector);
        VersionRow v = view.version(name, version);
        if (v == null) {
            if (r == null) {
                throw NotVerifiedYet.INSTANCE;
            }
            v = r.version(name, version).orElseThrow(
                    () -> new Suspect("secret " + name + " v" + version, "the version row is missing"));
            if (!seals.valid(v)) {
                throw new Suspect("secret " + name + " v" + version, "version row MAC does not verify");
            }
            view.putVersion(v);
        }
        if (v.wrappedKey() == null || v.ciphertext() == null) {
            throw new TresorException(Failure.GONE, "version " + version + " of '" + name + "' was destroyed");
        }
        if (v.expiresAt() != null && v.expiresAt() <= clock.millis() && !allowExpired) {
            throw new TresorException(Failure.GONE, "version " + version + " of '" + name + "' expired at "
                    + Instant.ofEpochMilli(v.expiresAt()) + "; add allowExpired=true to read it anyway");
        }
        byte[] plaintext;
        try {
            plaintext = open(v, s, name, version);
        } catch (GeneralSecurityException e) {
            throw new Suspect("secret " + name + " v" + version,
                    "the envelope does not open (value, data key or group list changed)");
        }
        return new SecretValue(name, version, plaintext, Instant.ofEpochMilli(v.createdAt()),
                v.expiresAt() == null ? null : Instant.ofEpochMilli(v.expiresAt()), labelsOf(s, version));
    }

    /**
     * Opens a version's value with the current keyring. A data key naming a key this node's keyring
     * lacks (another node added a primary since) has the keyring re-read once before it counts as
     * tampered.
     */
    private byte[] open(VersionRow v, SecretRow s, String name, int version) throws GeneralSecurityException {
        byte[] keyContext = RowSeals.keyContext(name, version, s.groups());
        byte[] valueContext = RowSeals.valueContext(name, version);
        try {
            return envelope.open(keyrings.current(), v.wrappedKey(), v.ciphertext(), keyContext, valueContext);
        } catch (GeneralSecurityException e) {
            if (!keyrings.refreshFor(v.wrappedKey())) {
                throw e;
            }
            return envelope.open(keyrings.current(), v.wrappedKey(), v.ciphertext(), keyContext, valueContext);
        }
    }

    /** The secret row, verified, not deleted, and shared with the caller; otherwise a refusal. */
    private SecretRow readable(StoreReader r, VerifiedRows.View view, Caller caller, String name) {
        SecretRow s = view.secret(name);
        if (s == null) {
            if (r == null) {
                throw NotVerifiedYet.INSTANCE;
            }
            Optional<SecretRow> row = r.secret(name);
            if (row.isEmpty()) {
                throw caller.admin() ? TresorException.notFound("secret '" + name + "' does not exist") : noAccess(name);
            }
            s = row.get();
            // Checked before the access decision, so that tampering which only denies (a forged
            // deleted_at, a group dropped from the list) is counted as a violation, not as a 403.
            String problem = !seals.valid(s) ? "secret row MAC does not verify" : ledger.checkCurrent(r, s);
            if (problem != null) {
                throw new Suspect("secret " + name, problem, hiddenFrom(caller, s));
            }
            view.putSecret(s);
        }
        if (s.deletedAt() != null) {
            throw caller.admin()
                    ? TresorException.notFound("secret '" + name + "' is deleted; restore it with: tresor secret restore " + name)
                    : noAccess(name);
        }
        if (!caller.sharesGroupWith(s.groups())) {
            throw caller.admin()
                    ? TresorException.forbidden("admins read values only through a group; grant one of your groups the secret '"
                    + name + "' first")
                    : noAccess(name);
        }
        return s;
    }

    /** The view lacks a row the decision needs; thrown without a stack trace, caught in {@link #read}. */
    private static final class NotVerifiedYet extends RuntimeException {
        static final NotVerifiedYet INSTANCE = new NotVerifiedYet();

        private NotVerifiedYet() {
            super("not in the view of verified rows", null, false, false);
        }
    }

    private static TresorException noAccess(String name) {
        return TresorException.forbidden("access denied: no group of yours grants '" + name + "' (or it does not exist)");
    }

    private static int resolve(SecretRow s, VersionSelector selector) {
        if (selector.version() != null) {
            if (selector.version() > s.latestVersion()) {
                throw TresorException.notFound("secret '" + s.name() + "' has no version " + selector.version()
                        + " (latest is " + s.latestVersion() + ")");
            }
            return selector.version();
        }
        String label = selector.label() == null ? VersionSelector.CURRENT : selector.label();
        Integer version = s.labels().get(label);
        if (version == null) {
            throw TresorException.notFound("secret '" + s.name() + "' has no version labelled '" + label + "'");
        }
        return version;
    }

    private static List<String> labelsOf(SecretRow s, int version) {
        List<String> labels = new ArrayList<>();
        s.labels().forEach((label, v) -> {
            if (v == version) {
                labels.add(label);
            }
        });
        return labels;
    }

    /** Version metadata; needs read access (or admin). */
    public List<VersionMeta> versions(Caller caller, String name) {
        Names.secret(name);
        return readConfirmed(r -> {
            SecretRow s = visible(r, caller, name);
            List<VersionMeta> out = new ArrayList<>();
            for (VersionRow v : r.versions(name)) {
                if (!seals.valid(v)) {
                    monitor.violation("secret " + name + " v" + v.version(), "version row MAC does not verify");
                    continue;
                }
                boolean destroyed = v.wrappedKey() == null || v.ciphertext() == null;
                boolean expired = v.expiresAt() != null && v.expiresAt() <= clock.millis();
                out.add(new VersionMeta(v.version(), Instant.ofEpochMilli(v.createdAt()), v.createdBy(),
                        v.expiresAt() == null ? null : Instant.ofEpochMilli(v.expiresAt()), labelsOf(s, v.version()),
                        Metadata.fromJson(v.metadata()), destroyed, expired));
            }
            return out;
        });
    }

    /** Metadata of one secret; needs read access (or admin, who also sees deleted secrets). */
    public SecretMeta meta(Caller caller, String name) {
        Names.secret(name);
        return readConfirmed(r -> meta(visible(r, caller, name)));
    }

    /**
     * Runs {@code work} in a read; if it meets a {@link Suspect}, runs it again under the ledger
     * head lock, where no secret write can commit and this node's marks cannot be ahead of what
     * it reads, and reports what is still wrong there.
     */
    private <T> T readConfirmed(java.util.function.Function<StoreReader, T> work) {
        try {
            return store.read(work);
        } catch (Suspect suspect) {
            try {
                return store.write(w -> {
                    ledger.lockHead(w);
                    return work.apply(w);
                });
            } catch (Suspect confirmed) {
                throw confirmed.report(monitor);
            }
        }
    }

    private SecretRow visible(StoreReader r, Caller caller, String name) {
        Optional<SecretRow> row = r.secret(name);
        if (row.isEmpty()) {
            throw caller.admin() ? TresorException.notFound("secret '" + name + "' does not exist") : noAccess(name);
        }
        SecretRow s = row.get();
        String problem = !seals.valid(s) ? "secret row MAC does not verify" : ledger.checkCurrent(r, s);
        if (problem != null) {
            throw new Suspect("secret " + name, problem, hiddenFrom(caller, s));
        }
        if (!caller.admin() && (s.deletedAt() != null || !caller.sharesGroupWith(s.groups()))) {
            throw noAccess(name);
        }
        return s;
    }

    /**
     * Metadata of the secrets the caller may read (admins: all, including deleted ones), ordered by
     * name, {@code limit} at most, starting after {@code after}.
     */
    public List<SecretMeta> list(Caller caller, String prefix, String after, int limit) {
        int bounded = Math.max(1, Math.min(limit, 10_000));
        try {
            return store.read(r -> listing(r, caller, prefix, after, bounded, false));
        } catch (Suspect suspect) {
            // As in readConfirmed: list again where the ledger cannot move, and report what fails there.
            return store.write(w -> {
                ledger.lockHead(w);
                return listing(w, caller, prefix, after, bounded, true);
            });
        }
    }

    private List<SecretMeta> listing(StoreReader r, Caller caller, String prefix, String after, int bounded,
                                     boolean confirming) {
        List<SecretMeta> out = new ArrayList<>();
        String cursor = after;
        // Rows that fail their checks or are not the caller's are skipped, so keep fetching
        // until the page is full or the names run out: a page never ends early.
        while (out.size() < bounded) {
            List<SecretRow> rows = caller.admin()
                    ? r.secrets(prefix, cursor, bounded)
                    : r.secretsGrantedTo(caller.groups().keySet(), prefix, cursor, bounded);
            for (SecretRow s : rows) {
                cursor = s.name();
                if (out.size() == bounded) {
                    break;
                }
                String problem = !seals.valid(s) ? "secret row MAC does not verify" : ledger.checkCurrent(r, s);
                if (problem != null) {
                    if (!confirming) {
                        throw new Suspect("secret " + s.name(), problem);
                    }
                    monitor.violation("secret " + s.name(), problem);
                    continue;
                }
                if (!caller.admin() && (s.deletedAt() != null || !caller.sharesGroupWith(s.groups()))) {
                    continue;
                }
                out.add(meta(s));
            }
            if (rows.size() < bounded) {
                break;
            }
        }
        return out;
    }

    private static SecretMeta meta(SecretRow s) {
        return new SecretMeta(s.name(), s.description(), s.groups(), s.labels(), s.labels().get(VersionSelector.CURRENT),
                s.latestVersion(), Instant.ofEpochMilli(s.createdAt()), s.createdBy(), Instant.ofEpochMilli(s.updatedAt()),
                s.deletedAt() == null ? null : Instant.ofEpochMilli(s.deletedAt()), s.destroyed());
    }

    // ================================================================== writes

    /**
     * Stores a new version. Admins may create secrets and set groups; a client with the write role
     * in one of an existing secret's groups may add versions (and move labels), nothing more.
     *
     * @param groupExists checks, inside the same transaction, that a group exists and is intact
     */
    public VersionMeta put(Caller caller, String name, PutSecret request, GroupCheck groupExists) {
        return put(caller, name, request, groupExists, null).meta();
    }

    /**
     * An {@code Idempotency-Key} of a write: the client's key (1-128 of {@code [A-Za-z0-9._:-]}) and
     * the SHA-256 of the request as sent, so the same key with another request is told apart.
     */
    public record Idempotency(String key, byte[] requestHash) {
        public Idempotency {
            if (key == null || !key.matches("[A-Za-z0-9._:-]{1,128}")) {
                throw TresorException.badRequest("Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
            }
            requestHash = requestHash.clone();
        }
    }

    /** How long an Idempotency-Key is remembered. */
    public static final java.time.Duration IDEMPOTENCY_RETENTION = java.time.Duration.ofHours(24);

    /** What a write answered: the new version, or ({@code replayed}) the one an earlier try with the same key made. */
    public record PutResult(VersionMeta meta, boolean replayed) {}

    /**
     * As {@link #put(Caller, String, PutSecret, GroupCheck)}; with an {@link Idempotency} key that an
     * earlier write of the same caller to this secret used with the same request, nothing is written
     * and that write's version is answered again. The key is stored in the transaction that writes
     * the version, so it exists exactly when the version does.
     */
    public PutResult put(Caller caller, String name, PutSecret request, GroupCheck groupExists, Idempotency idempotency) {
        Names.secret(name);
        byte[] value = request.value();
        if (value == null) {
            throw TresorException.badRequest("a value is required (value or valueBase64)");
        }
        if (value.length > MAX_VALUE_BYTES) {
            throw new TresorException(Failure.TOO_LARGE, "value is " + value.length + " bytes; at most " + MAX_VALUE_BYTES + " are allowed");
        }
        SortedMap<String, String> metadata = Metadata.validate(request.metadata());
        List<String> labels = request.labels() == null ? List.of(VersionSelector.CURRENT) : request.labels();
        labels.forEach(Names::label);
        if (new TreeSet<>(labels).size() != labels.size()) {
            throw TresorException.badRequest("labels must not repeat");
        }
        List<String> requestedGroups = request.groups() == null ? null : sortedGroups(request.groups());
        if (requestedGroups != null && !caller.admin()) {
            throw TresorException.forbidden("only admins may set the groups of a secret");
        }
        if (request.description() != null && request.description().length() > 1024) {
            throw TresorException.badRequest("description must be at most 1024 characters");
        }
        long now = clock.millis();
        if (request.expiresAt() != null && request.expiresAt().isAfter(Instant.parse("9999-12-31T23:59:59Z"))) {
            throw TresorException.badRequest("expiresAt must be before the year 10000");
        }
        if (request.expiresAt() != null && request.expiresAt().toEpochMilli() <= now) {
            throw TresorException.badRequest("expiresAt must be in the future");
        }
        return store.write(w -> {
            if (requestedGroups != null) {
                w.lockAclHead(); // lock order: ACL head before secrets; keeps groups from vanishing mid-way
                requestedGroups.forEach(g -> groupExists.check(w, g));
            }
            ledger.lockHead(w);
            Optional<SecretRow> existing = w.lockSecret(name);
            if (idempotency != null) {
                Optional<PutResult> replay = replay(w, caller, name, idempotency, now);
                if (replay.isPresent()) {
                    return replay.get();
                }
            }
            SecretRow base;
            int version;
            if (existing.isEmpty()) {
                if (!caller.admin()) {
                    throw noAccess(name);
                }
                if (request.cas() != null && request.cas() != 0) {
                    throw TresorException.conflict("cas " + request.cas() + " does not match: '" + name + "' does not exist yet (use cas 0)");
                }
                List<String> groups = requestedGroups == null ? List.of() : requestedGroups;
                base = new SecretRow(name, groups, new TreeMap<>(), 0, request.description(), now, caller.name(), now,
                        null, false, null);
                version = 1;
                for (String g : groups) {
                    w.putGrant(seals.seal(new GrantRow(g, name, null)));
                }
            } else {
                SecretRow s = verifiedForWrite(w, existing.get());
                if (s.deletedAt() != null) {
                    throw caller.admin()
                            ? TresorException.conflict("secret '" + name + "' is deleted; restore it first: tresor secret restore " + name)
                            : noAccess(name);
                }
                if (!caller.admin() && !caller.canWriteAny(s.groups())) {
                    throw caller.sharesGroupWith(s.groups())
                            ? TresorException.forbidden("you may read '" + name + "' but not write it (needs the write role in one of its groups)")
                            : noAccess(name);
                }
                Integer current = s.labels().get(VersionSelector.CURRENT);
                int currentVersion = current == null ? 0 : current;
                if (request.cas() != null && request.cas() != currentVersion) {
                    throw TresorException.conflict("cas " + request.cas() + " does not match the current version "
                            + currentVersion + " of '" + name + "'");
                }
                base = s;
                if (requestedGroups != null && !requestedGroups.equals(s.groups())) {
                    base = regroup(w, s, requestedGroups);
                    for (String g : s.groups()) {
                        if (!requestedGroups.contains(g)) {
                            w.deleteGrant(g, name);
                        }
                    }
                    for (String g : requestedGroups) {
                        if (!s.groups().contains(g)) {
                            w.putGrant(seals.seal(new GrantRow(g, name, null)));
                        }
                    }
                }
                version = s.latestVersion() + 1;
            }
            // Under the secret ledger head lock, which a keyring change also takes: the keyring read
            // here stays the stored one until this transaction commits.
            Keyring keyring = keyrings.syncIn(w);
            Envelope.Sealed sealed = envelope.seal(keyring, value, RowSeals.keyContext(name, version, base.groups()),
                    RowSeals.valueContext(name, version));
            Long expiresAt = request.expiresAt() == null ? null : request.expiresAt().toEpochMilli();
            VersionRow v = seals.seal(new VersionRow(name, version, now, caller.name(), expiresAt,
                    Metadata.toJson(metadata), sealed.kekId(), sealed.wrappedKey(), sealed.ciphertext(), null));
            SortedMap<String, Integer> newLabels = new TreeMap<>(base.labels());
            for (String label : labels) {
                moveLabel(newLabels, label, version);
            }
            SecretRow updated = seals.seal(new SecretRow(name, base.groups(), newLabels, version,
                    request.description() != null ? request.description() : base.description(), base.createdAt(),
                    base.createdBy(), now, null, false, null));
            try {
                save(w, updated, existing.isEmpty());
                w.insertVersion(v);
                changes.secret(w, ChangeKind.VERSION, name, version, null);
            } catch (StoreConflictException e) {
                throw TresorException.conflict("'" + name + "' was changed concurrently; retry");
            }
            List<String> answeredLabels = labelsOf(updated, version);
            if (idempotency != null) {
                w.insertIdempotencyKey(new dev.tresor.store.Rows.IdempotencyRow(name, idempotency.key(),
                        idempotency.requestHash(), version, String.join(",", answeredLabels), now));
            }
            return new PutResult(new VersionMeta(version, Instant.ofEpochMilli(now), caller.name(),
                    expiresAt == null ? null : Instant.ofEpochMilli(expiresAt), answeredLabels, metadata,
                    false, false), false);
        });
    }

    /** The earlier write with this key, answered again; a key reused with another request or by another client is refused. */
    private Optional<PutResult> replay(dev.tresor.store.StoreWriter w, Caller caller, String name, Idempotency idempotency,
                                       long now) {
        w.deleteIdempotencyKeysBefore(now - IDEMPOTENCY_RETENTION.toMillis());
        Optional<dev.tresor.store.Rows.IdempotencyRow> earlier = w.idempotencyKey(name, idempotency.key());
        if (earlier.isEmpty()) {
            return Optional.empty();
        }
        Optional<VersionRow> v = w.version(name, earlier.get().version());
        if (v.isEmpty() || !v.get().createdBy().equals(caller.name())) {
            throw new TresorException(Failure.UNPROCESSABLE, "Idempotency-Key '" + idempotency.key() + "' was used by another"
                    + " write to '" + name + "'; use a new key for a new write");
        }
        if (!java.security.MessageDigest.isEqual(earlier.get().requestHash(), idempotency.requestHash())) {
            throw new TresorException(Failure.UNPROCESSABLE, "Idempotency-Key '" + idempotency.key() + "' was used for another"
                    + " request to '" + name + "'; use a new key for a new write");
        }
        VersionRow row = v.get();
        List<String> labels = earlier.get().labels().isEmpty() ? List.of() : List.of(earlier.get().labels().split(","));
        return Optional.of(new PutResult(new VersionMeta(row.version(), Instant.ofEpochMilli(row.createdAt()), row.createdBy(),
                row.expiresAt() == null ? null : Instant.ofEpochMilli(row.expiresAt()), labels,
                Metadata.fromJson(row.metadata()), row.wrappedKey() == null, false), true));
    }

    /**
     * Moves a label. Moving {@code current} puts {@code previous} on the version that was current
     * and clears {@code pending} if it pointed at the new current version (a finished rotation).
     */
    private static void moveLabel(SortedMap<String, Integer> labels, String label, int version) {
        if (label.equals(VersionSelector.CURRENT)) {
            Integer old = labels.get(VersionSelector.CURRENT);
            if (old != null && old != version) {
                labels.put(VersionSelector.PREVIOUS, old);
            }
            if (Integer.valueOf(version).equals(labels.get(VersionSelector.PENDING))) {
                labels.remove(VersionSelector.PENDING);
            }
        }
        labels.put(label, version);
    }

    /** Moves {@code label} to {@code version} (admin, or write role); {@code cas} as for put. */
    public SecretMeta label(Caller caller, String name, String label, int version, Integer cas) {
        Names.secret(name);
        Names.label(label);
        return store.write(w -> {
            ledger.lockHead(w);
            SecretRow s = verifiedForWrite(w, w.lockSecret(name).orElseThrow(
                    () -> caller.admin() ? TresorException.notFound("secret '" + name + "' does not exist") : noAccess(name)));
            if (s.deletedAt() != null) {
                throw caller.admin() ? TresorException.conflict("secret '" + name + "' is deleted") : noAccess(name);
            }
            if (!caller.admin() && !caller.canWriteAny(s.groups())) {
                throw caller.sharesGroupWith(s.groups())
                        ? TresorException.forbidden("moving labels of '" + name + "' needs the write role in one of its groups")
                        : noAccess(name);
            }
            Integer current = s.labels().get(VersionSelector.CURRENT);
            if (cas != null && cas != (current == null ? 0 : current)) {
                throw TresorException.conflict("cas " + cas + " does not match the current version "
                        + (current == null ? 0 : current) + " of '" + name + "'");
            }
            if (version < 1 || version > s.latestVersion()) {
                throw TresorException.notFound("secret '" + name + "' has no version " + version);
            }
            VersionRow v = w.version(name, version).orElseThrow(() -> {
                monitor.violation("secret " + name + " v" + version, "the version row is missing");
                return new IntegrityViolation("secret " + name + " v" + version, "the version row is missing");
            });
            if (!seals.valid(v)) {
                monitor.violation("secret " + name + " v" + version, "version row MAC does not verify");
                throw new IntegrityViolation("secret " + name + " v" + version, "version row MAC does not verify");
            }
            if (v.wrappedKey() == null) {
                throw TresorException.conflict("version " + version + " of '" + name + "' was destroyed; it cannot carry a label");
            }
            SortedMap<String, Integer> labels = new TreeMap<>(s.labels());
            moveLabel(labels, label, version);
            SecretRow updated = seals.seal(new SecretRow(name, s.groups(), labels, s.latestVersion(), s.description(),
                    s.createdAt(), s.createdBy(), clock.millis(), s.deletedAt(), s.destroyed(), null));
            save(w, updated, false);
            changes.secret(w, ChangeKind.LABEL, name, version, label);
            return meta(updated);
        });
    }

    /** Soft delete (restorable), or with {@code destroy} erase every version's data key and ciphertext. */
    public SecretMeta delete(Caller caller, String name, boolean destroy) {
        requireAdmin(caller, "delete secrets");
        Names.secret(name);
        return store.write(w -> {
            ledger.lockHead(w);
            SecretRow s = verifiedForWrite(w, w.lockSecret(name).orElseThrow(
                    () -> TresorException.notFound("secret '" + name + "' does not exist")));
            if (!destroy && s.deletedAt() != null) {
                throw TresorException.conflict("secret '" + name + "' is already deleted");
            }
            long now = clock.millis();
            if (destroy) {
                for (VersionRow v : w.versions(name)) {
                    if (v.wrappedKey() != null || v.ciphertext() != null) {
                        w.updateVersion(seals.seal(new VersionRow(v.secret(), v.version(), v.createdAt(), v.createdBy(),
                                v.expiresAt(), v.metadata(), v.kekId(), null, null, null)));
                    }
                }
            }
            SecretRow updated = seals.seal(new SecretRow(name, s.groups(), destroy ? new TreeMap<>() : s.labels(),
                    s.latestVersion(), s.description(), s.createdAt(), s.createdBy(), now,
                    s.deletedAt() == null ? now : s.deletedAt(), destroy || s.destroyed(), null));
            save(w, updated, false);
            changes.secret(w, destroy ? ChangeKind.DESTROYED : ChangeKind.DELETED, name, null, null);
            return meta(updated);
        });
    }

    public SecretMeta restore(Caller caller, String name) {
        requireAdmin(caller, "restore secrets");
        Names.secret(name);
        return store.write(w -> {
            ledger.lockHead(w);
            SecretRow s = verifiedForWrite(w, w.lockSecret(name).orElseThrow(
                    () -> TresorException.notFound("secret '" + name + "' does not exist")));
            if (s.destroyed()) {
                throw TresorException.conflict("secret '" + name + "' was destroyed; its values cannot be restored");
            }
            if (s.deletedAt() == null) {
                throw TresorException.conflict("secret '" + name + "' is not deleted");
            }
            SecretRow updated = seals.seal(new SecretRow(name, s.groups(), s.labels(), s.latestVersion(), s.description(),
                    s.createdAt(), s.createdBy(), clock.millis(), null, false, null));
            save(w, updated, false);
            changes.secret(w, ChangeKind.RESTORED, name, null, null);
            return meta(updated);
        });
    }

    // ================================================================== grants

    /** Inside an ACL transaction: give {@code group} read access to {@code secret}. */
    public void grant(StoreWriter w, String group, String secret) {
        Names.secret(secret);
        ledger.lockHead(w);
        SecretRow s = verifiedForWrite(w, w.lockSecret(secret).orElseThrow(
                () -> TresorException.notFound("secret '" + secret + "' does not exist")));
        if (s.groups().contains(group)) {
            w.putGrant(seals.seal(new GrantRow(group, secret, null)));
            return;
        }
        List<String> groups = new ArrayList<>(s.groups());
        groups.add(group);
        regroupAndSave(w, s, sortedGroups(groups));
        w.putGrant(seals.seal(new GrantRow(group, secret, null)));
        changes.groupAccess(w, ChangeKind.GRANTED, group, secret);
    }

    /** Inside an ACL transaction: take {@code group}'s access to {@code secret} away. */
    public void revoke(StoreWriter w, String group, String secret) {
        Names.secret(secret);
        ledger.lockHead(w);
        SecretRow s = verifiedForWrite(w, w.lockSecret(secret).orElseThrow(
                () -> TresorException.notFound("secret '" + secret + "' does not exist")));
        if (!s.groups().contains(group)) {
            throw TresorException.notFound("group '" + group + "' has no grant on '" + secret + "'");
        }
        List<String> groups = new ArrayList<>(s.groups());
        groups.remove(group);
        regroupAndSave(w, s, groups);
        w.deleteGrant(group, secret);
        changes.groupAccess(w, ChangeKind.REVOKED, group, secret);
    }

    /**
     * Inside an ACL transaction: remove a group from every secret sealed to it (group deletion).
     * The sealed group lists decide, not the grant index: a grant row deleted behind Tresor's back
     * must not leave the name in a list, where a group created later with that name would inherit it.
     */
    public void revokeAll(StoreWriter w, String group) {
        ledger.lockHead(w);
        java.util.Set<String> indexed = new java.util.TreeSet<>();
        for (GrantRow g : w.grantsOfGroup(group)) {
            indexed.add(g.secret());
        }
        for (SecretRow sealed : w.secretsNamingGroup(group)) {
            if (!indexed.remove(sealed.name())) {
                monitor.violation("grant " + group + " -> " + sealed.name(), "the grant row of a secret sealed to the group "
                        + "is missing (deleted behind Tresor's back); the group is removed from the secret's sealed list");
            }
            revoke(w, group, sealed.name());
        }
        for (String stale : indexed) {
            w.deleteGrant(group, stale);
        }
    }

    /** Names of the secrets granted to a group (from the grant index, cross-checked with each secret row). */
    public List<String> secretsOfGroup(String group) {
        return store.read(r -> {
            List<String> out = new ArrayList<>();
            for (GrantRow g : r.grantsOfGroup(group)) {
                if (!seals.valid(g)) {
                    monitor.violation("grant " + group + " -> " + g.secret(), "grant row MAC does not verify");
                    continue;
                }
                Optional<SecretRow> s = r.secret(g.secret());
                if (s.isPresent() && seals.valid(s.get()) && s.get().groups().contains(group)) {
                    out.add(g.secret());
                } else {
                    monitor.violation("grant " + group + " -> " + g.secret(), "grant row does not match the secret's group list");
                }
            }
            return out;
        });
    }

    private void regroupAndSave(StoreWriter w, SecretRow s, List<String> groups) {
        SecretRow updated = regroup(w, s, groups);
        save(w, seals.seal(new SecretRow(updated.name(), updated.groups(), updated.labels(),
                updated.latestVersion(), updated.description(), updated.createdAt(), updated.createdBy(), clock.millis(),
                updated.deletedAt(), updated.destroyed(), null)), false);
    }

    /**
     * Re-wraps every version's data key under the new group list (the value is untouched). A
     * version that does not unwrap is already unreadable; it is reported and left so (fail closed:
     * it stays bound to the old list and can never open under the new one).
     */
    private SecretRow regroup(StoreWriter w, SecretRow s, List<String> groups) {
        Keyring keyring = keyrings.syncIn(w); // callers hold the secret ledger head lock
        for (VersionRow v : w.versions(s.name())) {
            if (v.wrappedKey() == null) {
                continue;
            }
            if (!seals.valid(v)) {
                monitor.violation("secret " + s.name() + " v" + v.version(), "version row MAC does not verify");
                continue;
            }
            try {
                byte[] rewrapped = envelope.rewrap(keyring, v.wrappedKey(),
                        RowSeals.keyContext(s.name(), v.version(), s.groups()),
                        RowSeals.keyContext(s.name(), v.version(), groups));
                w.updateVersion(seals.seal(new VersionRow(v.secret(), v.version(), v.createdAt(), v.createdBy(),
                        v.expiresAt(), v.metadata(), keyring.keyId(), rewrapped, v.ciphertext(), null)));
            } catch (GeneralSecurityException e) {
                monitor.violation("secret " + s.name() + " v" + v.version(),
                        "data key does not unwrap under the recorded group list; left unreadable");
            }
        }
        return new SecretRow(s.name(), groups, s.labels(), s.latestVersion(), s.description(), s.createdAt(),
                s.createdBy(), s.updatedAt(), s.deletedAt(), s.destroyed(), s.mac());
    }

    private SecretRow verifiedForWrite(StoreWriter w, SecretRow s) {
        String problem = !seals.valid(s) ? "secret row MAC does not verify" : ledger.checkCurrent(w, s, false);
        if (problem != null) {
            monitor.violation("secret " + s.name(), problem);
            throw new IntegrityViolation("secret " + s.name(), problem);
        }
        return s;
    }

    /** Writes a sealed secret row and records it as current in the ledger, in the same transaction. */
    private void save(StoreWriter w, SecretRow sealed, boolean insert) {
        if (insert) {
            w.insertSecret(sealed);
        } else {
            w.updateSecret(sealed);
        }
        String problem = ledger.record(w, sealed);
        if (problem != null) {
            monitor.violation("secret ledger", problem);
            throw new IntegrityViolation("secret " + sealed.name(), problem);
        }
    }

    private static List<String> sortedGroups(List<String> groups) {
        TreeSet<String> sorted = new TreeSet<>();
        for (String g : groups) {
            sorted.add(Names.group(g));
        }
        return List.copyOf(sorted);
    }

    private static void requireAdmin(Caller caller, String what) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may " + what);
        }
    }

    /** Checks inside a write transaction that a group exists and is intact (supplied by the ACL side). */
    @FunctionalInterface
    public interface GroupCheck {
        void check(StoreWriter w, String group);
    }

    /** An integrity failure seen without locks; confirmed under the row lock before it is reported. */
    private static final class Suspect extends RuntimeException {
        final String subject;
        final String problem;
        /**
         * What the caller is told instead of the violation, when it may not read the row even as
         * stored (the refusal must not tell it the row exists); null to tell it of the violation.
         */
        final TresorException shownInstead;

        Suspect(String subject, String problem) {
            this(subject, problem, null);
        }

        Suspect(String subject, String problem, TresorException shownInstead) {
            super(problem, null, false, false);
            this.subject = subject;
            this.problem = problem;
            this.shownInstead = shownInstead;
        }

        /** Counts and audits the confirmed violation; returns the refusal for the caller. */
        TresorException report(IntegrityMonitor monitor) {
            monitor.violation(subject, problem);
            return shownInstead != null ? shownInstead : new IntegrityViolation(subject, problem);
        }
    }

    /** A non-admin outside every group the stored row names learns nothing about it from a refusal. */
    private static TresorException hiddenFrom(Caller caller, SecretRow s) {
        return !caller.admin() && !caller.sharesGroupWith(s.groups()) ? noAccess(s.name()) : null;
    }
}
