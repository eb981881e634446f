package dev.tresor.api;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.audit.AuditQuery;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.ca.Pem;
import dev.tresor.identity.WorkloadIdentity;
import dev.tresor.model.Durations;
import dev.tresor.model.Failure;
import dev.tresor.model.InstantText;
import dev.tresor.model.GroupView;
import dev.tresor.model.Names;
import dev.tresor.model.PutSecret;
import dev.tresor.model.Role;
import dev.tresor.model.SecretMeta;
import dev.tresor.model.SecretValue;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionMeta;
import dev.tresor.model.VersionSelector;
import java.security.cert.X509Certificate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The /v1 API: maps a method and path to one Tresor operation and renders its result. Every
 * route names its audit action up front (see {@link #action}) so even a refused request is
 * audited under the right name.
 */
final class Routes {

    /** The latest expiry accepted (year 9999); later instants overflow epoch milliseconds. */
    static final Instant LATEST_EXPIRY = Instant.parse("9999-12-31T23:59:59Z");

    private final Tresor tresor;
    private final Duration caDefaultTtl;
    private final Duration caMaxTtl;
    private final dev.tresor.audit.AuditReader auditRecords;
    private final Clock clock;
    private final InstantText times = new InstantText();

    private final CaPublisher publisher;
    private final dev.tresor.feed.ChangeFeed feed;
    private final Duration watchMaxWait;

    /** What a watcher waits for when it names no {@code wait}. */
    static final Duration DEFAULT_WATCH_WAIT = Duration.ofSeconds(30);

    private final KeyAdministration keys;

    Routes(Tresor tresor, CaPublisher publisher, Duration caDefaultTtl, Duration caMaxTtl, dev.tresor.audit.AuditReader auditRecords,
           Clock clock,
           dev.tresor.feed.ChangeFeed feed, Duration watchMaxWait, KeyAdministration keys) {
        this.keys = keys;
        this.feed = feed;
        this.watchMaxWait = watchMaxWait;
        this.tresor = tresor;
        this.publisher = publisher;
        this.caDefaultTtl = caDefaultTtl;
        this.caMaxTtl = caMaxTtl;
        this.auditRecords = auditRecords;
        this.clock = clock;
    }

    /** The audit action name of a request, decided from its shape alone (before authentication). */
    static String action(String method, List<String> p) {
        if (p.isEmpty()) {
            return "unknown";
        }
        String head = p.getFirst();
        int n = p.size();
        return switch (head) {
            case "whoami" -> n == 1 && method.equals("GET") ? "whoami" : "unknown";
            case "secrets" -> {
                if (n == 1) {
                    yield method.equals("GET") ? "secret.list" : "unknown";
                }
                String last = p.getLast();
                if (n > 2 && last.equals("versions") && method.equals("GET")) {
                    yield "secret.versions";
                }
                if (n > 2 && last.equals("labels") && method.equals("POST")) {
                    yield "secret.label";
                }
                if (n > 2 && last.equals("restore") && method.equals("POST")) {
                    yield "secret.restore";
                }
                yield switch (method) {
                    case "GET" -> "secret.read";
                    case "PUT" -> "secret.write";
                    case "DELETE" -> "secret.delete";
                    default -> "unknown";
                };
            }
            case "groups" -> {
                if (n == 1) {
                    yield method.equals("GET") ? "group.list" : method.equals("POST") ? "group.create" : "unknown";
                }
                if (n == 2) {
                    yield method.equals("GET") ? "group.read" : method.equals("DELETE") ? "group.delete" : "unknown";
                }
                if (n == 4 && p.get(2).equals("clients")) {
                    yield method.equals("PUT") ? "group.member.add" : method.equals("DELETE") ? "group.member.remove" : "unknown";
                }
                if (n >= 4 && p.get(2).equals("secrets")) {
                    yield method.equals("PUT") ? "grant.add" : method.equals("DELETE") ? "grant.remove" : "unknown";
                }
                yield "unknown";
            }
            case "clients" -> {
                if (n == 1) {
                    yield method.equals("GET") ? "client.list" : method.equals("POST") ? "client.create" : "unknown";
                }
                if (n == 2) {
                    yield method.equals("GET") ? "client.read" : method.equals("DELETE") ? "client.delete" : "unknown";
                }
                yield "unknown";
            }
            case "audit" -> n == 1 && method.equals("GET") ? "audit.read" : "unknown";
            case "watch" -> n == 1 && method.equals("GET") ? "secret.watch" : "unknown";
            case "ca" -> n != 2 ? "unknown" : switch (p.get(1)) {
                case "sign" -> method.equals("POST") ? "ca.sign" : "unknown";
                case "renew" -> method.equals("POST") ? "ca.renew" : "unknown";
                case "revoke" -> method.equals("POST") ? "ca.revoke" : "unknown";
                case "certs" -> method.equals("GET") ? "ca.certs" : "unknown";
                case "bundle" -> method.equals("GET") ? "ca.bundle" : "unknown";
                case "crl" -> method.equals("GET") ? "ca.crl" : "unknown";
                case "crls" -> method.equals("GET") ? "ca.crls" : "unknown";
                case "rotate" -> method.equals("POST") ? "ca.rotate" : "unknown";
                default -> "unknown";
            };
            case "tokens" -> n == 1 && method.equals("POST") ? "token.create" : "unknown";
            case "keys" -> n != 2 ? "unknown" : switch (p.get(1)) {
                case "status" -> method.equals("GET") ? "key.status" : "unknown";
                case "rotate" -> method.equals("POST") ? "key.rotate" : "unknown";
                case "migrate" -> method.equals("POST") ? "key.migrate" : "unknown";
                default -> "unknown";
            };
            default -> "unknown";
        };
    }

    private static final List<String> METHODS = List.of("GET", "PUT", "POST", "DELETE");

    /** The methods a path answers to (for 405 and its Allow header); empty if the path is no endpoint. */
    static List<String> allowedMethods(List<String> p) {
        return METHODS.stream().filter(m -> !action(m, p).equals("unknown")).toList();
    }

    /** A known endpoint asked with a method it does not answer to. */
    static final class MethodNotAllowed extends RuntimeException {
        private final List<String> allowed;

        MethodNotAllowed(List<String> allowed) {
            super("method not allowed", null, false, false);
            this.allowed = List.copyOf(allowed);
        }

        List<String> allowed() {
            return allowed;
        }
    }

    /** The secret a request is about (for the audit record), or null. */
    static String secretOf(String action, List<String> p) {
        if (action.startsWith("secret.") && p.size() > 1) {
            int end = switch (action) {
                case "secret.versions", "secret.label", "secret.restore" -> p.size() - 1;
                default -> p.size();
            };
            return end > 1 ? String.join("/", p.subList(1, end)) : null;
        }
        if (action.startsWith("grant.") && p.size() > 3) {
            return String.join("/", p.subList(3, p.size()));
        }
        return null;
    }

    ApiResponse handle(String action, Exchange ex, Caller caller) {
        List<String> p = ex.path();
        return switch (action) {
            case "whoami" -> ok(tresor.whoami(caller));
            case "secret.list" -> listSecrets(ex, caller);
            case "secret.watch" -> watch(ex, caller);
            case "secret.read" -> readSecret(ex, caller, secretOf(action, p));
            case "secret.versions" -> versions(caller, secretOf(action, p));
            case "secret.write" -> putSecret(ex, caller, secretOf(action, p));
            case "secret.label" -> label(ex, caller, secretOf(action, p));
            case "secret.delete" -> {
                SecretMeta meta = tresor.secrets().delete(caller, secretOf(action, p), ex.boolParam("destroy"));
                yield ok(meta);
            }
            case "secret.restore" -> ok(tresor.secrets().restore(caller, secretOf(action, p)));
            case "group.list" -> ok(Map.of("groups", tresor.listGroups(caller)));
            case "group.read" -> ok(groupView(tresor.getGroup(caller, p.get(1))));
            case "group.create" -> {
                ApiBodies.GroupBody body = Json.parse(ex.body().read(), ApiBodies.GroupBody.class);
                if (body.name() == null) {
                    throw TresorException.badRequest("field 'name' is required");
                }
                yield json(201, groupView(tresor.createGroup(caller, body.name(), body.description())));
            }
            case "group.delete" -> {
                tresor.deleteGroup(caller, p.get(1));
                yield ok(Map.of("deleted", p.get(1)));
            }
            case "group.member.add" -> {
                byte[] raw = ex.body().read();
                Role role = raw.length == 0 ? Role.READ : Role.parse(Json.parse(raw, ApiBodies.MembershipBody.class).role());
                tresor.addMember(caller, p.get(1), p.get(3), role);
                yield ok(Map.of("group", p.get(1), "client", p.get(3), "role", role.wireName()));
            }
            case "group.member.remove" -> {
                tresor.removeMember(caller, p.get(1), p.get(3));
                yield ok(Map.of("group", p.get(1), "client", p.get(3), "removed", true));
            }
            case "grant.add" -> {
                String secret = secretOf(action, p);
                tresor.grant(caller, p.get(1), secret);
                yield ok(Map.of("group", p.get(1), "secret", secret, "granted", true));
            }
            case "grant.remove" -> {
                String secret = secretOf(action, p);
                tresor.revoke(caller, p.get(1), secret);
                yield ok(Map.of("group", p.get(1), "secret", secret, "revoked", true));
            }
            case "client.list" -> ok(Map.of("clients", tresor.listClients(caller)));
            case "client.read" -> ok(tresor.getClient(caller, p.get(1)));
            case "client.create" -> {
                ApiBodies.ClientBody body = Json.parse(ex.body().read(), ApiBodies.ClientBody.class);
                if (body.name() == null) {
                    throw TresorException.badRequest("field 'name' is required");
                }
                yield json(201, tresor.createClient(caller, body.name(), body.identity(), Boolean.TRUE.equals(body.admin())));
            }
            case "client.delete" -> {
                tresor.deleteClient(caller, p.get(1));
                yield ok(Map.of("deleted", p.get(1)));
            }
            case "audit.read" -> audit(ex, caller);
            case "ca.sign" -> sign(ex, caller);
            case "ca.renew" -> renew(ex, caller);
            case "ca.revoke" -> revoke(ex, caller);
            case "ca.certs" -> issuedCerts(ex, caller);
            case "ca.bundle" -> publisher().bundleResponse();
            case "ca.crl" -> publisher().crl();
            case "ca.crls" -> publisher().crls();
            case "ca.rotate" -> rotateCa(ex, caller);
            case "token.create" -> createToken(ex, caller);
            case "key.status" -> {
                requireAdmin(caller, "read the key status");
                yield ok(keys().status());
            }
            case "key.rotate" -> rotateKeys(ex, caller);
            case "key.migrate" -> migrateKeys(ex, caller);
            default -> {
                List<String> allowed = allowedMethods(p);
                if (!allowed.isEmpty()) {
                    throw new MethodNotAllowed(allowed);
                }
                throw TresorException.notFound("no such API endpoint: " + Names.printable(ex.method() + " /v1/"
                        + String.join("/", p)));
            }
        };
    }

    // ------------------------------------------------------------------ secrets

    private ApiResponse listSecrets(Exchange ex, Caller caller) {
        String prefix = ex.param("prefix");
        String after = ex.param("after");
        Integer limit = ex.intParam("limit");
        int bounded = limit == null ? 1000 : limit;
        if (bounded < 1 || bounded > 10_000) {
            throw TresorException.badRequest("limit must be between 1 and 10000");
        }
        List<SecretMeta> page = tresor.secrets().list(caller, prefix, after, bounded);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("secrets", page);
        body.put("next", page.size() == bounded ? page.getLast().name() : null);
        return ok(body);
    }

    /**
     * The change feed (docs/delivery.md). Without {@code since}: the cursor to start from, at once.
     * The caller is authenticated again after each wake-up, so a membership change made while it
     * waits decides what it is shown.
     */
    private ApiResponse watch(Exchange ex, Caller caller) {
        String since = ex.param("since");
        String waitText = ex.param("wait");
        Duration wait = waitText == null ? DEFAULT_WATCH_WAIT : watchWait(waitText);
        if (wait.compareTo(watchMaxWait) > 0) {
            wait = watchMaxWait;
        }
        dev.tresor.feed.FeedPage page;
        if (since == null) {
            page = new dev.tresor.feed.FeedPage(feed.head(), List.of(), false);
        } else {
            long cursor = cursorParam(since);
            try {
                page = feed.await(() -> tresor.authenticate(caller.identity()), cursor, wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TresorException(dev.tresor.model.Failure.UNAVAILABLE, "the server is stopping; watch again");
            }
        }
        List<Map<String, Object>> changes = new java.util.ArrayList<>();
        for (dev.tresor.feed.Change c : page.changes()) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("seq", Long.toString(c.seq()));
            item.put("kind", c.kind().wireName());
            item.put("secret", c.secret());
            if (c.version() != null) {
                item.put("version", c.version());
            }
            if (c.label() != null) {
                item.put("label", c.label());
            }
            item.put("at", times.format(c.at()));
            changes.add(item);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("cursor", Long.toString(page.cursor()));
        body.put("changes", changes);
        body.put("more", page.more());
        return ok(body);
    }

    private static Duration watchWait(String text) {
        Duration wait;
        try {
            wait = dev.tresor.model.Durations.parse("wait", text);
        } catch (RuntimeException e) {
            throw TresorException.badRequest("wait must be a duration such as 30s or 0s, got '" + text + "'");
        }
        if (wait.isNegative()) {
            throw TresorException.badRequest("wait must not be negative");
        }
        return wait;
    }

    private static long cursorParam(String text) {
        if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
            throw TresorException.badRequest("since must be a cursor from an earlier answer of GET /v1/watch (digits), got '"
                    + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw TresorException.badRequest("since is out of range");
        }
    }

    private ApiResponse readSecret(Exchange ex, Caller caller, String name) {
        VersionSelector selector = new VersionSelector(ex.intParam("version"), ex.param("label"));
        SecretValue value = tresor.secrets().read(ex.view(), caller, name, selector, ex.boolParam("allowExpired"));
        try {
            if (ex.wantsRawBytes()) {
                WipeableBuffer out = new WipeableBuffer(value.value().length);
                out.write(value.value(), 0, value.value().length);
                return new ApiResponse(200, "application/octet-stream", out, name, value.version(), null);
            }
            return new ApiResponse(200, "application/json", renderValue(value), name, value.version(), null);
        } finally {
            value.wipe();
        }
    }

    /** Renders a value without ever turning it into a String, so every copy can be wiped. */
    private WipeableBuffer renderValue(SecretValue value) {
        WipeableBuffer out = new WipeableBuffer(value.value().length * 2 + 256);
        boolean utf8 = isUtf8(value.value());
        try (JsonGenerator g = Json.generator(out)) {
            g.writeStartObject();
            g.writeStringField("name", value.name());
            g.writeNumberField("version", value.version());
            g.writeFieldName("value");
            if (utf8) {
                g.writeUTF8String(value.value(), 0, value.value().length);
            } else {
                g.writeBinary(value.value());
            }
            g.writeStringField("encoding", utf8 ? "utf-8" : "base64");
            g.writeStringField("createdAt", times.format(value.createdAt()));
            if (value.expiresAt() == null) {
                g.writeNullField("expiresAt");
            } else {
                g.writeStringField("expiresAt", times.format(value.expiresAt()));
            }
            g.writeArrayFieldStart("labels");
            for (String label : value.labels()) {
                g.writeString(label);
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            out.wipe();
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static boolean isUtf8(byte[] bytes) {
        // Decoded into an array of our own, so the decoded copy of the value can be wiped.
        char[] chars = new char[bytes.length];
        try {
            CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            CharBuffer out = CharBuffer.wrap(chars);
            ByteBuffer in = ByteBuffer.wrap(bytes);
            return !decoder.decode(in, out, true).isError() && !decoder.flush(out).isError() && !in.hasRemaining();
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
    }

    private ApiResponse versions(Caller caller, String name) {
        List<VersionMeta> versions = tresor.secrets().versions(caller, name);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("versions", versions);
        return ok(body).about(name, null);
    }

    private ApiResponse putSecret(Exchange ex, Caller caller, String name) {
        Names.secret(name);
        byte[] raw = ex.body().read();
        String idempotencyHeader = ex.header("Idempotency-Key");
        dev.tresor.secrets.SecretService.Idempotency idempotency = idempotencyHeader == null ? null
                : new dev.tresor.secrets.SecretService.Idempotency(idempotencyHeader, sha256(raw));
        ApiBodies.PutSecretBody body = Json.parse(raw, ApiBodies.PutSecretBody.class);
        byte[] value;
        if (body.value() != null && body.valueBase64() != null) {
            throw TresorException.badRequest("give either value or valueBase64, not both");
        } else if (body.value() != null) {
            value = body.value().getBytes(StandardCharsets.UTF_8);
        } else if (body.valueBase64() != null) {
            try {
                value = Base64.getDecoder().decode(body.valueBase64());
            } catch (IllegalArgumentException e) {
                throw TresorException.badRequest("valueBase64 is not valid base64");
            }
        } else {
            throw TresorException.badRequest("a value is required: give value (text) or valueBase64 (bytes)");
        }
        Instant expiresAt = null;
        if (body.expiresAt() != null && body.ttl() != null) {
            throw TresorException.badRequest("give either expiresAt or ttl, not both");
        } else if (body.expiresAt() != null) {
            try {
                expiresAt = Instant.parse(body.expiresAt());
                expiresAt.toEpochMilli(); // stored in milliseconds: an instant beyond that range is refused, not a 500
            } catch (DateTimeParseException | ArithmeticException e) {
                throw TresorException.badRequest("expiresAt must be an ISO-8601 instant such as 2027-01-31T00:00:00Z");
            }
            if (!expiresAt.isAfter(clock.instant())) {
                throw TresorException.badRequest("expiresAt must be in the future");
            }
        } else if (body.ttl() != null) {
            Duration ttl = duration("ttl", body.ttl());
            if (ttl.isZero() || ttl.isNegative()) {
                throw TresorException.badRequest("ttl must be more than 0");
            }
            try {
                expiresAt = clock.instant().plus(ttl);
            } catch (ArithmeticException | java.time.DateTimeException e) {
                throw TresorException.badRequest("ttl is too long; expiry must be before " + LATEST_EXPIRY);
            }
        }
        // Beyond this an instant no longer fits the store's epoch milliseconds; refuse it here as bad input.
        if (expiresAt != null && expiresAt.isAfter(LATEST_EXPIRY)) {
            throw TresorException.badRequest((body.ttl() != null ? "ttl is too long" : "expiresAt is too far ahead")
                    + "; expiry must be before " + LATEST_EXPIRY);
        }
        try {
            dev.tresor.secrets.SecretService.PutResult result = tresor.secrets().put(caller, name, new PutSecret(value,
                    body.description(), expiresAt, body.groups(), body.metadata(), body.cas(), body.labels()),
                    tresor.groupCheck(), idempotency);
            VersionMeta created = result.meta();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("name", name);
            out.put("version", created.version());
            out.put("createdAt", created.createdAt());
            out.put("expiresAt", created.expiresAt());
            out.put("labels", created.labels());
            if (result.replayed()) {
                // The answer the first try got (and says so); the write itself happened once.
                out.put("replayed", true);
            }
            return json(created.version() == 1 ? 201 : 200, out).about(name, created.version());
        } finally {
            java.util.Arrays.fill(value, (byte) 0);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    private ApiResponse label(Exchange ex, Caller caller, String name) {
        ApiBodies.LabelBody body = Json.parse(ex.body().read(), ApiBodies.LabelBody.class);
        if (body.label() == null || body.version() == null) {
            throw TresorException.badRequest("fields 'label' and 'version' are required");
        }
        return ok(tresor.secrets().label(caller, name, body.label(), body.version(), body.cas())).about(name, body.version());
    }

    // ------------------------------------------------------------------ audit and CA

    private ApiResponse audit(Exchange ex, Caller caller) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may read the audit log");
        }
        Instant since = null;
        if (ex.param("since") != null) {
            try {
                since = Instant.parse(ex.param("since"));
            } catch (DateTimeParseException e) {
                Duration back = duration("since", ex.param("since"));
                try {
                    since = clock.instant().minus(back);
                } catch (ArithmeticException | java.time.DateTimeException tooFar) {
                    throw TresorException.badRequest("since reaches too far back; give an instant or a shorter duration");
                }
            }
        }
        Integer limit = ex.intParam("limit");
        int bounded = limit == null ? 100 : limit;
        if (bounded < 1 || bounded > 10_000) {
            throw TresorException.badRequest("limit must be between 1 and 10000");
        }
        Long before = seqParam(ex, "before");
        Long after = seqParam(ex, "after");
        Instant until = null;
        if (ex.param("until") != null) {
            try {
                until = Instant.parse(ex.param("until"));
            } catch (DateTimeParseException e) {
                throw TresorException.badRequest("until must be an instant such as 2026-12-06T10:00:00Z");
            }
        }
        try {
            String node = ex.param("node");
            if (node != null && !node.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
                throw TresorException.badRequest("node must be a node id (1-63 of A-Z a-z 0-9 . _ -)");
            }
            AuditQuery.Page page = auditRecords.page(node, new AuditQuery.Range(since, until, after, before),
                    ex.param("client"), ex.param("secret"), bounded);
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("records", page.records());
            body.put("next", page.next());
            return ok(body);
        } catch (IOException | dev.tresor.store.StoreException e) {
            throw new TresorException(Failure.UNAVAILABLE, "the audit log cannot be read right now");
        }
    }

    private static Long seqParam(Exchange ex, String name) {
        if (ex.param(name) == null) {
            return null;
        }
        long seq;
        try {
            seq = Long.parseLong(ex.param(name));
        } catch (NumberFormatException e) {
            seq = -1;
        }
        if (seq < 0) {
            throw TresorException.badRequest(name + " must be a record seq (a number), e.g. the 'next' of the previous page");
        }
        return seq;
    }

    private ApiResponse sign(Exchange ex, Caller caller) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may have certificates issued for clients");
        }
        // One CA for the whole request, even if an online rollover swaps it meanwhile.
        CertificateAuthority ca = publisher().ca();
        ApiBodies.SignBody body = Json.parse(ex.body().read(), ApiBodies.SignBody.class);
        if (body.csr() == null || body.client() == null) {
            throw TresorException.badRequest("fields 'client' (the name of an existing client; the certificate gets its"
                    + " identity) and 'csr' (PEM) are required");
        }
        Duration ttl = body.ttl() == null ? caDefaultTtl : duration("ttl", body.ttl());
        if (ttl.isZero() || ttl.isNegative() || ttl.compareTo(caMaxTtl) > 0) {
            throw TresorException.badRequest("ttl must be more than 0 and at most " + Durations.format(caMaxTtl));
        }
        org.bouncycastle.pkcs.PKCS10CertificationRequest csr;
        try {
            csr = dev.tresor.ca.CsrBuilder.parsePem(body.csr());
        } catch (IllegalArgumentException e) {
            throw TresorException.badRequest(e.getMessage());
        }
        Tresor.Issued<IssuedCertificate> issued = tresor.issueCertificate(caller, body.client(),
                Boolean.TRUE.equals(body.reissue()), request -> {
                    try {
                        return ca.signCsr(csr, request.identity(), ttl, request.certificatesFrom());
                    } catch (IllegalArgumentException e) {
                        throw TresorException.badRequest(e.getMessage());
                    }
                });
        X509Certificate certificate = issued.certificate().certificate();
        String serial = certificate.getSerialNumber().toString(16);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client", body.client());
        out.put("identity", issued.identity());
        out.put("certificate", Pem.encodeCertificate(certificate));
        out.put("chain", issued.certificate().chainPem());
        out.put("ca", Pem.encodeCertificate(ca.certificate()));
        out.put("serial", serial);
        out.put("notAfter", certificate.getNotAfter().toInstant());
        out.put("reissue", issued.reissue());
        // The audit record names what was issued: a certificate is a credential for that client.
        String detail = "client=" + body.client() + " identity=" + issued.identity()
                + " serial=" + serial + " notAfter=" + certificate.getNotAfter().toInstant();
        return json(201, out).audited(issued.reissue() ? "ca.reissue" : "ca.sign", detail);
    }

    // ------------------------------------------------------------------ keys

    private KeyAdministration keys() {
        if (keys == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server offers no key operations");
        }
        return keys;
    }

    private static void requireAdmin(Caller caller, String what) {
        if (!caller.admin()) {
            throw TresorException.forbidden("only admins may " + what);
        }
    }

    /**
     * {@code POST /v1/keys/rotate} {"kek": true}: a new KEK re-wraps the keyring, the audit chain
     * keys and the CA keys; {"keyring": true}: a fresh primary key, older data keys re-wrapped in
     * the background, then the older keys retired.
     */
    private ApiResponse rotateKeys(Exchange ex, Caller caller) {
        requireAdmin(caller, "rotate keys");
        ApiBodies.KeyRotateBody body = Json.parse(ex.body().read(), ApiBodies.KeyRotateBody.class);
        boolean kek = Boolean.TRUE.equals(body.kek());
        boolean keyring = Boolean.TRUE.equals(body.keyring());
        if (kek == keyring) {
            throw TresorException.badRequest("say what to rotate, one at a time: {\"kek\": true} (the key provider's key)"
                    + " or {\"keyring\": true} (the keys that wrap the data keys)");
        }
        if (keyring && body.keyId() != null) {
            throw TresorException.badRequest("keyId names the KMS key of a KEK rotation ({\"kek\": true}), not of a keyring one");
        }
        if (keyring) {
            Map<String, Object> begun = keys().rotateKeyring();
            return ok(begun).audited("key.rotate", "keyring primary=" + begun.get("primaryKeyId") + " previous="
                    + begun.get("previousPrimaryKeyId") + " keyringVersion=" + begun.get("keyringVersion") + " toRewrap="
                    + begun.get("toRewrap"));
        }
        Map<String, Object> done = keys().rotateKek(body.keyId());
        return ok(done).audited("key.rotate", "kek from=" + done.get("fromKekId") + " to=" + done.get("toKekId")
                + " keyringVersion=" + done.get("keyringVersion") + " auditChainKeys=" + done.get("auditChainKeys")
                + " caKey=" + done.get("caKey") + " retiredCaKeys=" + done.get("retiredCaKeys"));
    }

    /** {@code POST /v1/keys/migrate} {"to": "keyProvider:\n  kind: ..."}: the KEK moves to another key provider. */
    private ApiResponse migrateKeys(Exchange ex, Caller caller) {
        requireAdmin(caller, "migrate the KEK");
        ApiBodies.KeyMigrateBody body = Json.parse(ex.body().read(), ApiBodies.KeyMigrateBody.class);
        Map<String, Object> done = keys().migrate(body.to());
        return ok(done).audited("key.migrate", "kek from=" + done.get("fromKekId") + " (" + done.get("fromProvider")
                + ") to=" + done.get("toKekId") + " (" + done.get("toProvider") + ") keyringVersion="
                + done.get("keyringVersion") + " auditChainKeys=" + done.get("auditChainKeys") + " caKey="
                + done.get("caKey") + " retiredCaKeys=" + done.get("retiredCaKeys"));
    }

    /** {@code POST /v1/ca/rotate} [{"overlap": "25h"}]: a CA key rollover while the server runs (admins). */
    private ApiResponse rotateCa(Exchange ex, Caller caller) {
        requireAdmin(caller, "roll the CA over");
        publisher();
        byte[] raw = ex.body().read();
        ApiBodies.CaRotateBody body = raw.length == 0 ? new ApiBodies.CaRotateBody(null)
                : Json.parse(raw, ApiBodies.CaRotateBody.class);
        Duration overlap = body.overlap() == null ? null : duration("overlap", body.overlap());
        Map<String, Object> done = keys().rotateCa(overlap);
        return ok(done).audited("ca.rollover", "online active=" + done.get("active") + " retired=" + done.get("retired")
                + " trustUntil=" + done.get("trustUntil"));
    }

    // ------------------------------------------------------------------ workload identity

    private CaPublisher publisher() {
        if (publisher == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server has no CA configured (ca.cert / ca.key)");
        }
        return publisher;
    }

    /** Self-renewal: a new certificate for exactly the caller's own identity, for the key of the CSR. */
    private ApiResponse renew(Exchange ex, Caller caller) {
        CertificateAuthority ca = publisher().ca();
        ApiBodies.RenewBody body = Json.parse(ex.body().read(), ApiBodies.RenewBody.class);
        if (body.csr() == null) {
            throw TresorException.badRequest("field 'csr' (PEM, for a new key) is required; the certificate gets your own"
                    + " identity whatever the CSR asks for");
        }
        Duration ttl = ttl(body.ttl());
        org.bouncycastle.pkcs.PKCS10CertificationRequest csr = parseCsr(body.csr());
        CertificateAuthority.Profile profile = profile(body.profile());
        WorkloadIdentity.Issuance issued = tresor.identity().renew(caller,
                request -> signCsr(ca, csr, request.identity(), ttl, request.certificatesFrom(), profile));
        return json(201, issuanceBody(ca, publisher, issued)).audited("ca.renew", issuanceDetail(issued));
    }

    /** {@code GET /v1/ca/certs[?client=NAME][&expired=true][&limit=N]}: what the CA issued, newest first (admins). */
    private ApiResponse issuedCerts(Exchange ex, Caller caller) {
        Integer limit = ex.intParam("limit");
        int bounded = limit == null ? 1000 : limit;
        if (bounded < 1 || bounded > WorkloadIdentity.MAX_LISTED) {
            throw TresorException.badRequest("limit must be between 1 and " + WorkloadIdentity.MAX_LISTED);
        }
        List<Map<String, Object>> certs = new java.util.ArrayList<>();
        for (var row : tresor.identity().issued(caller, ex.param("client"), ex.boolParam("expired"), bounded)) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("serial", row.serial());
            c.put("client", row.client());
            c.put("identity", row.identity());
            c.put("issuer", row.issuer());
            c.put("issuedAt", times.format(Instant.ofEpochMilli(row.issuedAt())));
            c.put("notAfter", times.format(Instant.ofEpochMilli(row.notAfter())));
            c.put("revokedAt", row.revokedAt() == null ? null : times.format(Instant.ofEpochMilli(row.revokedAt())));
            c.put("revokedBy", row.revokedBy());
            certs.add(c);
        }
        return ok(Map.of("certificates", certs));
    }

    private ApiResponse revoke(Exchange ex, Caller caller) {
        ApiBodies.RevokeBody body = Json.parse(ex.body().read(), ApiBodies.RevokeBody.class);
        if ((body.serial() == null) == (body.identity() == null)) {
            throw TresorException.badRequest("give exactly one of 'serial' (hex) or 'identity' (every certificate of it)");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (body.serial() != null) {
            var row = tresor.identity().revokeSerial(caller, body.serial());
            out.put("revoked", List.of(row.serial()));
            out.put("identity", row.identity());
            return ok(out).audited("ca.revoke", "serial=" + row.serial() + " identity=" + row.identity());
        }
        List<String> serials = tresor.identity().revokeIdentity(caller, body.identity());
        out.put("revoked", serials);
        out.put("identity", body.identity());
        return ok(out).audited("ca.revoke", "identity=" + body.identity() + " serials=" + String.join(",", serials));
    }

    private ApiResponse createToken(Exchange ex, Caller caller) {
        publisher();
        ApiBodies.TokenBody body = Json.parse(ex.body().read(), ApiBodies.TokenBody.class);
        if ((body.identity() == null) == (body.client() == null)) {
            throw TresorException.badRequest("give exactly one of 'identity' (of an existing client) or 'client' (its name)");
        }
        Duration ttl = body.ttl() == null ? Duration.ofHours(1) : duration("ttl", body.ttl());
        int uses = body.uses() == null ? 1 : body.uses();
        WorkloadIdentity.CreatedToken token = tresor.identity().createJoinToken(caller,
                body.identity() != null ? body.identity() : body.client(), ttl, uses);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token", token.token());
        out.put("id", token.id());
        out.put("client", token.client());
        out.put("identity", token.identity());
        out.put("uses", token.uses());
        out.put("expiresAt", token.expiresAt());
        // The audit record names the token by its id (its public half), never the token.
        return json(201, out).audited("token.create", "id=" + token.id() + " client=" + token.client() + " identity="
                + token.identity() + " uses=" + token.uses() + " expiresAt=" + token.expiresAt());
    }

    Duration ttl(String text) {
        Duration ttl = text == null ? caDefaultTtl : duration("ttl", text);
        if (ttl.isZero() || ttl.isNegative() || ttl.compareTo(caMaxTtl) > 0) {
            throw TresorException.badRequest("ttl must be more than 0 and at most " + Durations.format(caMaxTtl));
        }
        return ttl;
    }

    static org.bouncycastle.pkcs.PKCS10CertificationRequest parseCsr(String pem) {
        try {
            return dev.tresor.ca.CsrBuilder.parsePem(pem);
        } catch (IllegalArgumentException e) {
            throw TresorException.badRequest(e.getMessage());
        }
    }

    /** "client" (default: EKU clientAuth) or "workload" (clientAuth and serverAuth, for a tunnel or service). */
    static CertificateAuthority.Profile profile(String name) {
        if (name == null || name.equals("client")) {
            return CertificateAuthority.Profile.CLIENT;
        }
        if (name.equals("workload")) {
            return CertificateAuthority.Profile.WORKLOAD;
        }
        throw TresorException.badRequest("profile must be 'client' (clientAuth) or 'workload' (clientAuth and serverAuth)");
    }

    static IssuedCertificate signCsr(CertificateAuthority ca, org.bouncycastle.pkcs.PKCS10CertificationRequest csr,
                                     String identity, Duration ttl, Instant from, CertificateAuthority.Profile profile) {
        try {
            return ca.signCsr(csr, identity, ttl, from, profile);
        } catch (IllegalArgumentException e) {
            throw TresorException.badRequest(e.getMessage());
        }
    }

    static Map<String, Object> issuanceBody(CertificateAuthority ca, CaPublisher publisher, WorkloadIdentity.Issuance issued) {
        X509Certificate certificate = issued.certificate().certificate();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("client", issued.client());
        out.put("identity", issued.identity());
        out.put("certificate", Pem.encodeCertificate(certificate));
        out.put("chain", issued.certificate().chainPem());
        out.put("ca", Pem.encodeCertificate(ca.certificate()));
        out.put("bundle", publisher.bundlePem());
        out.put("serial", issued.serial());
        out.put("notBefore", certificate.getNotBefore().toInstant());
        out.put("notAfter", certificate.getNotAfter().toInstant());
        return out;
    }

    static String issuanceDetail(WorkloadIdentity.Issuance issued) {
        X509Certificate certificate = issued.certificate().certificate();
        return "client=" + issued.client() + " identity=" + issued.identity() + " serial=" + issued.serial()
                + " notAfter=" + certificate.getNotAfter().toInstant()
                + (issued.tokenId() == null ? "" : " token=" + issued.tokenId());
    }

    // ------------------------------------------------------------------ helpers

    /** A group as JSON; each member is {client, role}. */
    private static Map<String, Object> groupView(GroupView g) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", g.name());
        out.put("description", g.description());
        out.put("createdAt", g.createdAt());
        out.put("createdBy", g.createdBy());
        out.put("intact", g.intact());
        out.put("clients", g.clients() == null ? null : g.clients().stream()
                .map(m -> {
                    Map<String, Object> member = new LinkedHashMap<>();
                    member.put("client", m.client());
                    member.put("role", m.role());
                    return member;
                }).toList());
        out.put("secrets", g.secrets());
        return out;
    }

    private static Duration duration(String field, String text) {
        try {
            return Durations.parse(field, text);
        } catch (IllegalArgumentException e) {
            throw TresorException.badRequest(e.getMessage());
        }
    }

    private static ApiResponse ok(Object body) {
        return json(200, body);
    }

    private static ApiResponse json(int status, Object body) {
        return ApiResponse.json(status, Json.write(body));
    }
}
