package dev.tresor.identity;

import dev.tresor.access.AccessControl;
import dev.tresor.access.AclEditor;
import dev.tresor.access.Caller;
import dev.tresor.ca.Identities;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.cache.VerifiedRows;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.model.Durations;
import dev.tresor.model.Failure;
import dev.tresor.model.Names;
import dev.tresor.model.TresorException;
import dev.tresor.store.Rows.ClientRow;
import dev.tresor.store.Rows.IssuedCertRow;
import dev.tresor.store.Rows.JoinTokenRow;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConflictException;
import dev.tresor.store.StoreWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Who may get which certificate, beyond admins issuing for a client ({@code Tresor.issueCertificate}):
 * a client renewing its own identity, a new workload redeeming a one-time join token, and
 * revocation (by serial, or every certificate of an identity).
 *
 * <p>In every path the identity put into the certificate comes from the client's verified row,
 * never from the request. Every issued certificate is recorded (serial, identity, notAfter), so
 * it can be revoked and listed in the CRL.
 */
public final class WorkloadIdentity {

    /** Longest lifetime of a join token: it is a bearer credential, so it should be used within hours. */
    public static final Duration MAX_TOKEN_TTL = Duration.ofDays(7);
    /** Most uses of one token (e.g. the replicas of a deployment joining with one token). */
    public static final int MAX_TOKEN_USES = 1000;
    /** Token format: {@code tjt1.<id: 24 hex>.<secret: 43 base64url>}; the secret is 256 random bits. */
    static final String TOKEN_PREFIX = "tjt1.";
    private static final Pattern TOKEN = Pattern.compile("tjt1\\.([0-9a-f]{24})\\.([A-Za-z0-9_-]{43})");

    private final Store store;
    private final AccessControl access;
    private final RowSeals seals;
    private final IntegrityMonitor monitor;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public WorkloadIdentity(Store store, AccessControl access, RowSeals seals, IntegrityMonitor monitor, Clock clock) {
        this.store = store;
        this.access = access;
        this.seals = seals;
        this.monitor = monitor;
        this.clock = clock;
    }

    /** What the CA is asked to issue: the identity from the client's verified row and the earliest notBefore allowed. */
    public record Request(String client, String identity, Instant certificatesFrom) {}

    /** A certificate issued through one of these paths; {@code tokenId} names the join token used (null otherwise). */
    public record Issuance(IssuedCertificate certificate, String client, String identity, String tokenId) {
        public String serial() {
            return serialOf(certificate.certificate());
        }
    }

    /** A freshly created join token. {@code token} is the secret: shown once, never stored, never logged. */
    public record CreatedToken(String token, String id, String client, String identity, int uses, Instant expiresAt) {
        @Override
        public String toString() {
            return "CreatedToken[id=" + id + ", client=" + client + ", identity=" + identity + ", uses=" + uses
                    + ", expiresAt=" + expiresAt + ", token=(hidden)]";
        }
    }

    /**
     * A join token refused. {@link #getMessage()} is what the requester is told (the same for every
     * cause, so a guesser learns nothing); {@link #reason()} is for the audit log.
     */
    public static final class JoinRefused extends TresorException {
        private final String reason;
        private final String tokenId;

        JoinRefused(String reason, String tokenId) {
            super(Failure.UNAUTHENTICATED, "the join token is invalid, expired or used up; ask an admin for a new one"
                    + " (tresor token create)");
            this.reason = reason;
            this.tokenId = tokenId;
        }

        public String reason() {
            return reason;
        }

        /** The id (public half) of the token, if the token was well-formed; null otherwise. */
        public String tokenId() {
            return tokenId;
        }
    }

    // ------------------------------------------------------------------ join tokens

    /**
     * Creates a join token for an existing, intact client, named by its identity (a {@code spiffe://}
     * URI or CN identity) or its client name. Admins only.
     */
    public CreatedToken createJoinToken(Caller caller, String clientOrIdentity, Duration ttl, int uses) {
        requireAdmin(caller, "create join tokens");
        if (clientOrIdentity == null || clientOrIdentity.isBlank()) {
            throw TresorException.badRequest("field 'identity' (the identity of an existing client) or 'client' is required");
        }
        if (ttl == null || ttl.isZero() || ttl.isNegative() || ttl.compareTo(MAX_TOKEN_TTL) > 0) {
            throw TresorException.badRequest("ttl must be more than 0 and at most " + Durations.format(MAX_TOKEN_TTL));
        }
        if (uses < 1 || uses > MAX_TOKEN_USES) {
            throw TresorException.badRequest("uses must be between 1 and " + MAX_TOKEN_USES);
        }
        byte[] idBytes = new byte[12];
        byte[] secret = new byte[32];
        random.nextBytes(idBytes);
        random.nextBytes(secret);
        String id = HexFormat.of().formatHex(idBytes);
        String secretText = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        java.util.Arrays.fill(secret, (byte) 0);
        long now = clock.millis();
        Instant expiresAt = Instant.ofEpochMilli(now).plus(ttl);
        return write(w -> {
            ClientRow row = findClient(w, clientOrIdentity);
            AclEditor acl = access.edit(w);
            Caller target = acl.intactClient(row.name());
            w.deleteExpiredJoinTokens(now);
            w.insertJoinToken(seals.seal(new JoinTokenRow(id, sha256(secretText), target.name(), target.identity(), uses,
                    expiresAt.toEpochMilli(), now, caller.name(), null)));
            return new CreatedToken(TOKEN_PREFIX + id + "." + secretText, id, target.name(), target.identity(), uses,
                    expiresAt);
        });
    }

    /**
     * Redeems a join token: in one transaction, checks it (row MAC, secret in constant time, expiry,
     * uses left, the client still intact with the same identity), uses it up (one use), and issues
     * through {@code issue} for the client's identity.
     *
     * @throws JoinRefused for any problem with the token (one message for all; the reason is for audit)
     */
    public Issuance join(String token, Function<Request, IssuedCertificate> issue) {
        String id = null;
        var m = token == null ? null : TOKEN.matcher(token);
        if (m == null || !m.matches()) {
            throw new JoinRefused(token == null || token.isEmpty() ? "no token" : "malformed token", null);
        }
        id = m.group(1);
        String tokenId = id;
        byte[] presented = sha256(m.group(2));
        long now = clock.millis();
        // A refusal found inside the transaction is returned, not thrown, so nothing is rolled back
        // that should stay (there is nothing to write for a refused token anyway).
        Object outcome = write(w -> {
            Optional<JoinTokenRow> found = w.joinToken(tokenId);
            if (found.isEmpty()) {
                return new JoinRefused("unknown token id", tokenId);
            }
            JoinTokenRow row = found.get();
            if (!seals.valid(row)) {
                monitor.violation("join token " + tokenId, "the row's MAC does not verify (inserted or edited in the database)");
                return new JoinRefused("token row fails its MAC (tampered)", tokenId);
            }
            if (!MessageDigest.isEqual(presented, row.secretHash())) {
                return new JoinRefused("wrong token secret", tokenId);
            }
            if (row.expiresAt() <= now) {
                return new JoinRefused("token expired at " + Instant.ofEpochMilli(row.expiresAt()), tokenId);
            }
            if (row.usesLeft() <= 0) {
                return new JoinRefused("token used up", tokenId);
            }
            AclEditor acl = access.edit(w);
            Optional<ClientRow> client = w.client(row.client());
            if (client.isEmpty()) {
                return new JoinRefused("client '" + row.client() + "' no longer exists", tokenId);
            }
            Caller target = acl.intactClient(row.client());
            if (!target.identity().equals(row.identity())) {
                return new JoinRefused("client '" + row.client() + "' no longer has the token's identity", tokenId);
            }
            // A used-up token stays (uses 0) until it expires, so a replay is audited as such; expired
            // rows are removed when the next token is created.
            w.updateJoinToken(seals.seal(new JoinTokenRow(row.id(), row.secretHash(), row.client(), row.identity(),
                    row.usesLeft() - 1, row.expiresAt(), row.createdAt(), row.createdBy(), null)));
            acl.recordIssuance(target.name());
            IssuedCertificate issued = issue.apply(new Request(target.name(), target.identity(),
                    acl.certificatesFrom(target.identity()).orElse(null)));
            record(w, target, issued);
            acl.finish();
            return new Issuance(issued, target.name(), target.identity(), tokenId);
        });
        if (outcome instanceof JoinRefused refused) {
            throw refused;
        }
        return (Issuance) outcome;
    }

    // ------------------------------------------------------------------ self-renewal

    /**
     * Issues a new certificate for the caller's own identity (the caller is already authenticated
     * by a valid, non-revoked certificate). Nothing in the request can name another identity.
     */
    public Issuance renew(Caller caller, Function<Request, IssuedCertificate> issue) {
        return write(w -> {
            AclEditor acl = access.edit(w);
            Caller target = acl.intactClient(caller.name());
            if (!target.identity().equals(caller.identity())) {
                throw new TresorException(Failure.UNAUTHENTICATED, "client '" + caller.name() + "' changed identity; "
                        + "ask an admin for a new certificate");
            }
            acl.recordIssuance(target.name());
            IssuedCertificate issued = issue.apply(new Request(target.name(), target.identity(),
                    acl.certificatesFrom(target.identity()).orElse(null)));
            record(w, target, issued);
            acl.finish();
            return new Issuance(issued, target.name(), target.identity(), null);
        });
    }

    /** Records a certificate issued by an admin for a client (POST /v1/ca/sign), inside that transaction. */
    public void recordAdminIssuance(StoreWriter w, String client, String identity, IssuedCertificate issued) {
        w.insertIssuedCert(row(client, identity, issued));
    }

    private void record(StoreWriter w, Caller target, IssuedCertificate issued) {
        w.insertIssuedCert(row(target.name(), target.identity(), issued));
    }

    private IssuedCertRow row(String client, String identity, IssuedCertificate issued) {
        X509Certificate c = issued.certificate();
        return new IssuedCertRow(serialOf(c), client, identity, c.getIssuerX500Principal().getName(),
                c.getNotAfter().getTime(), clock.millis(), null, null);
    }

    // ------------------------------------------------------------------ revocation

    /** A revoked certificate, for the CRL: as the ACL head seals it. */
    public record Revoked(BigInteger serial, Instant revokedAt) {}

    /** At most this many certificates per listing. */
    public static final int MAX_LISTED = 10_000;

    /**
     * The certificates this server's CA issued, newest first (admins): of one client or all, the
     * unexpired ones unless {@code includeExpired}. Each says whether and when it was revoked, as
     * the ACL head seals it (the row's own revocation columns are only a copy).
     */
    public List<IssuedCertRow> issued(Caller caller, String client, boolean includeExpired, int limit) {
        requireAdmin(caller, "list issued certificates");
        if (client != null) {
            dev.tresor.model.Names.client(client);
        }
        int bounded = Math.max(1, Math.min(limit, MAX_LISTED));
        long now = clock.millis();
        return store.read(r -> {
            java.util.SortedMap<String, Long> sealed = access.sealedRevocations(r);
            return r.issuedCerts(client, now, includeExpired, bounded).stream().map(row -> asSealed(row, sealed)).toList();
        });
    }

    private static IssuedCertRow asSealed(IssuedCertRow row, java.util.SortedMap<String, Long> sealed) {
        Long revokedAt = sealed.get(row.serial());
        String revokedBy = revokedAt == null ? null : (row.revokedBy() == null ? "(not recorded)" : row.revokedBy());
        return new IssuedCertRow(row.serial(), row.client(), row.identity(), row.issuer(), row.notAfter(), row.issuedAt(),
                revokedAt, revokedBy);
    }

    /** Revokes one certificate by serial (hex, colons and case ignored). Admins only; idempotent. */
    public IssuedCertRow revokeSerial(Caller caller, String serial) {
        requireAdmin(caller, "revoke certificates");
        String normalized = normalizeSerial(serial);
        return write(w -> {
            if (w.issuedCert(normalized).isEmpty()) {
                throw TresorException.notFound("no certificate with serial " + normalized + " was issued by this server's CA");
            }
            AclEditor acl = access.edit(w);
            acl.revokeCertificate(normalized);
            w.revokeCert(normalized, clock.millis(), caller.name());
            java.util.SortedMap<String, Long> sealed = acl.revocations();
            acl.finish();
            return asSealed(w.issuedCert(normalized).orElseThrow(), sealed);
        });
    }

    /**
     * Revokes every certificate issued so far for {@code identity}: the identity is retired (sealed
     * in the ACL head, so the API refuses every older certificate at once) and each recorded,
     * unexpired certificate is listed as revoked (sealed too, for the CRL). Returns the serials listed.
     */
    public List<String> revokeIdentity(Caller caller, String identity) {
        requireAdmin(caller, "revoke certificates");
        Optional<String> problem = identity == null ? Optional.of("identity is required") : Identities.identityProblem(identity);
        if (problem.isPresent()) {
            throw TresorException.badRequest(problem.get());
        }
        long now = clock.millis();
        return write(w -> {
            AclEditor acl = access.edit(w);
            acl.retireIdentity(identity);
            List<String> serials = w.issuedCertsOf(identity, now).stream().map(IssuedCertRow::serial).toList();
            for (String serial : serials) {
                acl.revokeCertificate(serial);
                w.revokeCert(serial, now, caller.name());
            }
            acl.finish();
            return serials;
        });
    }

    /**
     * Once, in the start that migrated the schema to version 8: the revocations recorded before
     * then (in the rows only) are sealed into the ACL head, as they stand (the same trust on
     * upgrade as the first store head). Returns how many were sealed.
     */
    public int sealRecordedRevocations() {
        long now = clock.millis();
        return write(w -> {
            AclEditor acl = access.edit(w);
            int sealed = 0;
            for (IssuedCertRow row : w.revokedCerts(now)) {
                if (acl.revokeCertificate(row.serial(), row.revokedAt())) {
                    sealed++;
                }
            }
            acl.finish();
            return sealed;
        });
    }

    /** Whether the certificate with this serial was revoked; one set lookup per state of the database. */
    public boolean isRevoked(VerifiedRows.View view, BigInteger serial) {
        return view.revokedSerials(this::revokedSerials).contains(serial.toString(16));
    }

    private Set<String> revokedSerials() {
        return store.read(r -> new HashSet<>(access.sealedRevocations(r).keySet()));
    }

    /** Revoked certificates as the ACL head seals them (for the CRLs). */
    public List<Revoked> revoked() {
        return store.read(r -> access.sealedRevocations(r).entrySet().stream()
                .map(e -> new Revoked(new BigInteger(e.getKey(), 16), Instant.ofEpochMilli(e.getValue())))
                .toList());
    }

    /** Lower-case hex without leading zeros, the form serials are stored in. */
    public static String normalizeSerial(String serial) {
        String hex = serial == null ? "" : serial.replace(":", "").trim();
        if (hex.isEmpty() || hex.length() > 64 || !hex.matches("[0-9A-Fa-f]+")) {
            throw TresorException.badRequest("serial must be a certificate serial number in hex, e.g. 3f9a0c...");
        }
        return new BigInteger(hex, 16).toString(16);
    }

    public static String serialOf(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16);
    }

    // ------------------------------------------------------------------ helpers

    private static ClientRow findClient(StoreWriter w, String clientOrIdentity) {
        if (Identities.isUri(clientOrIdentity)) {
            Identities.identityProblem(clientOrIdentity).ifPresent(problem -> {
                throw TresorException.badRequest(problem);
            });
            return w.clientByIdentity(clientOrIdentity).orElseThrow(() -> TresorException.notFound("no client has the"
                    + " identity '" + Names.printable(clientOrIdentity) + "'; create it first (tresor client create NAME"
                    + " --identity " + Names.printable(clientOrIdentity) + ")"));
        }
        Optional<ClientRow> byName = w.client(clientOrIdentity);
        if (byName.isPresent()) {
            return byName.get();
        }
        return w.clientByIdentity(clientOrIdentity).orElseThrow(() -> TresorException.notFound("no client is named or has"
                + " the identity '" + Names.printable(clientOrIdentity) + "'"));
    }

    private <T> T write(Function<StoreWriter, T> work) {
        try {
            return store.write(work);
        } catch (StoreConflictException e) {
            throw TresorException.conflict("a conflicting change happened at the same time; retry");
        }
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    private static void requireAdmin(Caller caller, String what) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may " + what);
        }
    }
}
