package dev.tresor.api;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditUnavailableException;
import dev.tresor.cache.VerifiedRows;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.Identities;
import dev.tresor.model.Failure;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.TresorException;
import dev.tresor.server.TresorMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The API's front door. For every request, in this order: give it an id; identify the caller
 * from the verified client certificate; run the route; write the audit record; only then send
 * the response. If the audit record cannot be written in time, the client gets a 503 and no
 * value: an answered request always has its record.
 *
 * <p>Blocking by design: Jetty runs it on a virtual thread per request.
 */
public final class ApiHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(ApiHandler.class);
    private static final String PREFIX = "/v1/";

    private final Tresor tresor;
    private final Routes routes;
    private final AuditLog audit;
    private final TresorMetrics metrics;
    private final int maxBodyBytes;
    private final Clock clock;
    private final BooleanSupplier auditWritable;
    private final CaPublisher publisher;

    /**
     * @param auditWritable false once no audit sink can write any more (a failed write or fsync
     *                      leaves a file sink refusing everything): requests are then refused with
     *                      503 before they run, so a write is not applied and then answered 503
     */
    public ApiHandler(Tresor tresor, AuditLog audit, dev.tresor.audit.AuditReader auditRecords, CaPublisher ca, Duration caDefaultTtl,
                      Duration caMaxTtl, TresorMetrics metrics, int maxBodyBytes, Clock clock, BooleanSupplier auditWritable,
                      dev.tresor.feed.ChangeFeed feed, Duration watchMaxWait, KeyAdministration keys) {
        super(InvocationType.BLOCKING);
        this.auditWritable = auditWritable;
        this.tresor = tresor;
        this.publisher = ca;
        this.routes = new Routes(tresor, ca, caDefaultTtl, caMaxTtl, auditRecords, clock, feed, watchMaxWait, keys);
        this.audit = audit;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.clock = clock;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String requestId = newRequestId();
        // Every log line of this request names it (logback: %X{requestId}, "mdc" in JSON lines).
        MDC.put(REQUEST_ID, requestId);
        try {
            return handle(request, response, callback, requestId);
        } finally {
            MDC.remove(REQUEST_ID);
        }
    }

    /** The MDC key of the request id in log lines. */
    public static final String REQUEST_ID = "requestId";

    private boolean handle(Request request, Response response, Callback callback, String requestId) {
        long started = System.nanoTime();
        String source = Request.getRemoteAddr(request);
        String method = request.getMethod();
        String identity = null;
        String action = "unknown";
        String secret = null;
        ApiResponse result;
        String outcome;
        String detail = null;
        String allow = null;
        try {
            List<String> path = pathSegments(request.getHttpURI().getPath());
            action = Routes.action(method, path);
            secret = Routes.secretOf(action, path);
            PeerIdentity peer = peerOf(request);
            identity = peer.identity();
            VerifiedRows.View view = tresor.view();
            Caller caller = tresor.authenticate(view, identity);
            identity = caller.name();
            if (!caller.acceptsCertificateFrom(peer.certificate().getNotBefore().toInstant())) {
                throw new TresorException(Failure.UNAUTHENTICATED, "this certificate was issued before the identity '"
                        + dev.tresor.model.Names.printable(peer.identity()) + "' was retired (a deleted client had it), so it no longer "
                        + "stands for client '" + caller.name() + "'; ask an admin to issue a new certificate");
            }
            // A certificate of a retired CA works until the end of the rollover's overlap, also on a
            // connection opened before it ended.
            if (peer.trustUntil() != null && !clock.instant().isBefore(peer.trustUntil())) {
                throw new TresorException(Failure.UNAUTHENTICATED, "this certificate was issued by a retired CA whose"
                        + " overlap ended at " + peer.trustUntil() + "; renew it before the overlap ends, or ask an admin"
                        + " for a new one");
            }
            // Checked on every request, not once per connection: a revocation refuses a keep-alive
            // connection that is already open at its next request (one set lookup per request).
            if (tresor.identity().isRevoked(view, peer.certificate().getSerialNumber())) {
                throw new TresorException(Failure.UNAUTHENTICATED, "this certificate (serial "
                        + peer.certificate().getSerialNumber().toString(16) + ") was revoked; ask an admin for a new one");
            }
            Exchange exchange = new Exchange(method, path, query(request), () -> readBody(request),
                    request.getHeaders().get(HttpHeader.ACCEPT), view, name -> request.getHeaders().get(name));
            if (!auditWritable.getAsBoolean()) {
                throw new AuditUnavailableException("no audit sink can write");
            }
            if (changesState(method, action)) {
                // Written (handed to the OS) before the store commits: a process killed between the
                // commit and the outcome record below still leaves a record of the write.
                audit.record(new AuditEvent(clock.instant(), requestId, identity, action, secret, null, INTENT, 0, source,
                        null));
            }
            result = routes.handle(action, exchange, caller);
            outcome = "allowed";
        } catch (IntegrityViolation e) {
            result = error(e.failure(), e.getMessage(), requestId);
            outcome = "tamper";
            detail = e.subject() + ": " + e.problem();
        } catch (TresorException e) {
            result = error(e.failure(), e.getMessage(), requestId);
            outcome = switch (e.failure()) {
                case UNAUTHENTICATED, FORBIDDEN -> "denied";
                case UNAVAILABLE, INTEGRITY -> "error";
                default -> "rejected";
            };
            detail = truncate(e.getMessage());
        } catch (Routes.MethodNotAllowed e) {
            allow = String.join(", ", e.allowed());
            result = error(405, "method " + dev.tresor.model.Names.printable(method) + " is not allowed here; use "
                    + allow, requestId);
            outcome = "rejected";
            detail = "method not allowed";
        } catch (AuditUnavailableException e) {
            result = error(Failure.UNAVAILABLE, "audit log unavailable; request refused", requestId);
            outcome = "error";
        } catch (RuntimeException e) {
            LOG.error("request {} ({} {}) failed", requestId, method, action, e);
            result = error(Failure.INTEGRITY, "internal error; quote request id " + requestId + " to the operator", requestId);
            result = new ApiResponse(500, result.contentType(), result.body(), null, null, null);
            outcome = "error";
            detail = e.getClass().getSimpleName();
        }
        if (result.secret() != null) {
            secret = result.secret();
        }
        if (result.action() != null) {
            action = result.action();
        }
        if (result.detail() != null && detail == null) {
            detail = result.detail();
        }
        long auditStarted = System.nanoTime();
        try {
            audit.record(new AuditEvent(clock.instant(), requestId, identity, action, secret, result.version(), outcome,
                    result.status(), source, detail));
            metrics.auditWrite(System.nanoTime() - auditStarted);
        } catch (AuditUnavailableException e) {
            metrics.auditFailure();
            result.body().wipe();
            result = error(Failure.UNAVAILABLE, "audit log unavailable; request refused", requestId);
            allow = null;
        }
        metrics.request(action, result.status(), System.nanoTime() - started);
        if (LOG.isDebugEnabled()) {
            // Names and outcomes only, as in the audit record; never a value.
            LOG.debug("{} {} {} by {}: {} {}", method, action, secret == null ? "-" : secret, identity, result.status(),
                    outcome);
        }
        if (result.status() == 413 && request.getAttribute(DRAIN_ATTRIBUTE) instanceof Long declared) {
            setHeaders(response, result, requestId, allow);
            sendThenDrain(request, response, callback, result.body(), declared);
            return true;
        }
        finishReadingBody(request, response, result.status(), maxBodyBytes);
        send(response, callback, result, requestId, allow);
        return true;
    }

    /**
     * Reads to its end a request body that the route did not read (a refused request: bad name,
     * no permission, unknown route) before the answer goes out. Jetty discards only what has
     * already arrived when the handler completes; if the body is still on its way it closes the
     * connection after an answer that promised keep-alive, and the client's next request on that
     * pooled connection fails with a broken pipe (the JDK client retries only GETs). The drain is
     * bounded by the body limit; a body over it, or one refused as too large, closes the
     * connection with {@code Connection: close} said in the answer.
     */
    static void finishReadingBody(Request request, Response response, int status, int maxBodyBytes) {
        HttpFields headers = request.getHeaders();
        long declared;
        try {
            declared = headers.getLongField(HttpHeader.CONTENT_LENGTH);
        } catch (NumberFormatException e) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            return;
        }
        if (declared <= 0 && !headers.contains(HttpHeader.TRANSFER_ENCODING)) {
            return;
        }
        if (status == 413 || declared > maxBodyBytes) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            return;
        }
        try (InputStream in = Request.asInputStream(request)) {
            byte[] scratch = new byte[8192];
            long left = maxBodyBytes + 1L;
            int n;
            while (left > 0 && (n = in.read(scratch, 0, (int) Math.min(scratch.length, left))) >= 0) {
                left -= n;
            }
            java.util.Arrays.fill(scratch, (byte) 0);
            if (left <= 0) {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
        } catch (IOException | RuntimeException clientStoppedSending) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    /** Outcome of the record written before a state-changing request runs; its outcome record follows. */
    public static final String INTENT = "intent";

    /** Every method but GET may change the store (or issue a certificate); unknown routes change nothing. */
    private static boolean changesState(String method, String action) {
        return !method.equals("GET") && !method.equals("HEAD") && !action.equals("unknown");
    }

    private static void setHeaders(Response response, ApiResponse result, String requestId, String allow) {
        response.setStatus(result.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, result.contentType());
        response.getHeaders().put("X-Request-Id", requestId);
        if (allow != null) {
            response.getHeaders().put(HttpHeader.ALLOW, allow);
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    }

    private void send(Response response, Callback callback, ApiResponse result, String requestId, String allow) {
        setHeaders(response, result, requestId, allow);
        WipeableBuffer body = result.body();
        response.write(true, body.asByteBuffer(), Callback.from(() -> {
            body.wipe();
            callback.succeeded();
        }, failure -> {
            body.wipe();
            callback.failed(failure);
        }));
    }

    static ApiResponse error(Failure failure, String message, String requestId) {
        return error(failure.httpStatus(), message, requestId);
    }

    static ApiResponse error(int status, String message, String requestId) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("error", message);
        body.put("requestId", requestId);
        return ApiResponse.json(status, Json.write(body));
    }

    /** Identity from the verified peer certificate (the TLS layer already checked the chain and dates). */
    private static final String IDENTITY_ATTRIBUTE = "dev.tresor.peerIdentity";

    private record PeerIdentity(X509Certificate certificate, String identity, java.time.Instant trustUntil) {}

    private PeerIdentity peerOf(Request request) {
        EndPoint.SslSessionData ssl = request.getConnectionMetaData().getConnection().getEndPoint().getSslSessionData();
        X509Certificate[] peer = ssl == null ? null : ssl.peerCertificates();
        if (peer == null || peer.length == 0) {
            throw new TresorException(Failure.UNAUTHENTICATED, "a client certificate is required");
        }
        // The certificate of a connection never changes (renegotiation is off), so its identity is
        // parsed and checked once per connection, not per request (~4 % of the read path).
        var attributes = request.getConnectionMetaData();
        if (attributes.getAttribute(IDENTITY_ATTRIBUTE) instanceof PeerIdentity known && known.certificate() == peer[0]) {
            return known;
        }
        try {
            PeerIdentity identity = new PeerIdentity(peer[0], Identities.identityOf(peer[0]),
                    publisher == null ? null : publisher.trustUntil(peer[0]));
            attributes.setAttribute(IDENTITY_ATTRIBUTE, identity);
            return identity;
        } catch (IllegalArgumentException e) {
            throw new TresorException(Failure.UNAUTHENTICATED, "the client certificate carries no usable identity (URI SAN or CN)");
        }
    }

    /**
     * Splits the raw (still percent-encoded) path. Names never need escapes, so any '%' is refused
     * rather than decoded: no encoded '/' or '..' can sneak past the name grammar.
     */
    static List<String> pathSegments(String rawPath) {
        if (rawPath == null || !rawPath.startsWith(PREFIX)) {
            throw TresorException.notFound("no such API endpoint; the API lives under /v1/");
        }
        if (rawPath.indexOf('%') >= 0) {
            throw TresorException.badRequest("percent-encoded characters are not allowed in paths; names use only letters, digits, '.', '_', '-' and '/'");
        }
        String rest = rawPath.substring(PREFIX.length());
        List<String> segments = new ArrayList<>();
        if (!rest.isEmpty()) {
            for (String s : rest.split("/", -1)) {
                segments.add(s);
            }
        }
        return segments;
    }

    private static Map<String, String> query(Request request) {
        Map<String, String> out = new HashMap<>();
        Fields fields;
        try {
            fields = Request.extractQueryParameters(request);
        } catch (RuntimeException e) {
            throw TresorException.badRequest("malformed query string");
        }
        for (Fields.Field f : fields) {
            if (f.getValues().size() > 1) {
                throw TresorException.badRequest("query parameter '" + f.getName() + "' is given more than once");
            }
            out.put(f.getName(), f.getValue());
        }
        return out;
    }

    private byte[] readBody(Request request) {
        requireJson(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
        HttpField length = request.getHeaders().getField(HttpHeader.CONTENT_LENGTH);
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.getValue());
            } catch (NumberFormatException e) {
                throw TresorException.badRequest("bad Content-Length");
            }
            if (declared > maxBodyBytes) {
                if (declared <= drainBound()) {
                    request.setAttribute(DRAIN_ATTRIBUTE, declared);
                }
                throw new TresorException(Failure.TOO_LARGE, "request body is " + declared + " bytes; at most "
                        + maxBodyBytes + " are accepted");
            }
        }
        try (InputStream in = Request.asInputStream(request)) {
            byte[] body = in.readNBytes(maxBodyBytes + 1);
            if (body.length > maxBodyBytes) {
                throw new TresorException(Failure.TOO_LARGE, "request body exceeds " + maxBodyBytes + " bytes");
            }
            return body;
        } catch (IOException e) {
            throw TresorException.badRequest("the request body could not be read: " + e.getMessage());
        }
    }

    /**
     * A body declared somewhat over the limit is refused with 413 at once, and then read and
     * discarded before the connection closes: closing while the client is still sending makes
     * TCP reset the connection, and the client may never read the 413 (seen in CI). Bodies far
     * over the limit are not read at all (the connection just closes after the 413), which bounds
     * what a hostile client can make the server read.
     */
    private static final String DRAIN_ATTRIBUTE = "dev.tresor.drainBeforeClose";

    private long drainBound() {
        return Math.min(8L * maxBodyBytes, 64L * 1024 * 1024);
    }

    /** Sends a 413 and then reads the refused body (up to what was declared) before closing. */
    private static void sendThenDrain(Request request, Response response, Callback callback, WipeableBuffer body,
                                      long declared) {
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        try (Blocker.Callback sent = Blocker.callback()) {
            response.write(true, body.asByteBuffer(), sent);
            sent.block();
        } catch (IOException e) {
            body.wipe();
            callback.failed(e);
            return;
        }
        body.wipe();
        try (InputStream in = Request.asInputStream(request)) {
            in.skipNBytes(declared);
        } catch (IOException | RuntimeException clientStoppedSending) {
            // It has its answer; only the clean close is lost.
        }
        callback.succeeded();
    }

    /**
     * Bodies are JSON in UTF-8. A missing Content-Type is taken as JSON (the body is parsed and
     * refused if it is not); any other declared type is refused with 415 rather than guessed at.
     */
    static void requireJson(String contentType) {
        if (contentType == null) {
            return;
        }
        String[] parts = contentType.split(";");
        String mime = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (!mime.equals("application/json") && !(mime.startsWith("application/") && mime.endsWith("+json"))) {
            throw new TresorException(Failure.UNSUPPORTED_MEDIA_TYPE, "request bodies must be JSON (Content-Type: "
                    + "application/json), not '" + dev.tresor.model.Names.printable(mime) + "'");
        }
        for (int i = 1; i < parts.length; i++) {
            String[] param = parts[i].trim().split("=", 2);
            if (param.length == 2 && param[0].trim().equalsIgnoreCase("charset")) {
                String charset = param[1].trim().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
                    throw new TresorException(Failure.UNSUPPORTED_MEDIA_TYPE, "request bodies must be UTF-8 JSON, not charset '"
                            + dev.tresor.model.Names.printable(charset) + "'");
                }
            }
        }
    }

    /**
     * A correlation id, not a secret: 64 random bits from the thread's fast generator. (SecureRandom
     * took a global lock and a /dev/urandom read per request: ~4 % of the read path in JFR.)
     */
    private static String newRequestId() {
        return HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 300 ? s : s.substring(0, 300);
    }
}
