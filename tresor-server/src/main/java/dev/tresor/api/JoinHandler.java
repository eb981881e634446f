package dev.tresor.api;

import dev.tresor.Tresor;
import dev.tresor.audit.AuditEvent;
import dev.tresor.audit.AuditLog;
import dev.tresor.audit.AuditUnavailableException;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.identity.WorkloadIdentity;
import dev.tresor.model.Failure;
import dev.tresor.model.TresorException;
import dev.tresor.server.TresorMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The join port's only handler: {@code POST /v1/join} with {@code {token, csr}}, from a peer that
 * has no client certificate yet. It runs on its own connector (and its own Jetty server), so
 * nothing else of the API is reachable without a client certificate: this handler knows no other
 * route, and the API connector keeps requiring a client certificate at the handshake.
 *
 * <p>Every attempt is rate-limited per source address and audited as {@code ca.join} (allowed or
 * denied, with the token's id and the reason, never the token).
 */
public final class JoinHandler extends Handler.Abstract {

    private static final Logger LOG = LoggerFactory.getLogger(JoinHandler.class);
    public static final String PATH = "/v1/join";
    /** A join body is a token and a CSR: a few KiB at most. */
    static final int MAX_BODY_BYTES = 16 * 1024;

    private final Tresor tresor;
    private final CaPublisher publisher;
    private final Duration ttl;
    private final AuditLog audit;
    private final TresorMetrics metrics;
    private final Clock clock;
    private final JoinRateLimiter limiter;

    public JoinHandler(Tresor tresor, CaPublisher publisher, Duration ttl, AuditLog audit, TresorMetrics metrics,
                       Clock clock, JoinRateLimiter limiter) {
        super(InvocationType.BLOCKING);
        this.tresor = tresor;
        this.publisher = publisher;
        this.ttl = ttl;
        this.audit = audit;
        this.metrics = metrics;
        this.clock = clock;
        this.limiter = limiter;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long started = System.nanoTime();
        String requestId = HexFormat.of().toHexDigits(java.util.concurrent.ThreadLocalRandom.current().nextLong());
        String source = Request.getRemoteAddr(request);
        String action = "ca.join";
        String identity = null;
        String outcome;
        String detail = null;
        ApiResponse result;
        try {
            String path = request.getHttpURI().getPath();
            if (!PATH.equals(path)) {
                action = "join.reject";
                throw TresorException.notFound("this port serves only POST " + PATH + " (a workload joining with a token);"
                        + " everything else is on the API port, with a client certificate");
            }
            if (!request.getMethod().equals("POST")) {
                throw new MethodNotAllowedOnJoin();
            }
            if (!limiter.tryAcquire(source)) {
                throw new TooManyAttempts();
            }
            ApiBodies.JoinBody body = Json.parse(readBody(request), ApiBodies.JoinBody.class);
            if (body.token() == null || body.csr() == null) {
                throw TresorException.badRequest("fields 'token' (from tresor token create) and 'csr' (PEM) are required");
            }
            var csr = Routes.parseCsr(body.csr());
            var profile = Routes.profile(body.profile());
            CertificateAuthority ca = publisher.ca();
            // The intent record is on disk before the token is used up and the certificate issued.
            audit.record(new AuditEvent(clock.instant(), requestId, null, action, null, null, ApiHandler.INTENT, 0, source,
                    null));
            WorkloadIdentity.Issuance issued = tresor.identity().join(body.token(),
                    r -> Routes.signCsr(ca, csr, r.identity(), ttl, r.certificatesFrom(), profile));
            identity = issued.identity();
            result = ApiResponse.json(201, Json.write(Routes.issuanceBody(ca, publisher, issued)));
            outcome = "allowed";
            detail = Routes.issuanceDetail(issued);
        } catch (WorkloadIdentity.JoinRefused e) {
            result = ApiHandler.error(e.failure(), e.getMessage(), requestId);
            outcome = "denied";
            detail = (e.tokenId() == null ? "" : "token=" + e.tokenId() + " ") + e.reason();
        } catch (TresorException e) {
            result = ApiHandler.error(e.failure(), e.getMessage(), requestId);
            outcome = e.failure() == Failure.UNAUTHENTICATED || e.failure() == Failure.FORBIDDEN ? "denied" : "rejected";
            detail = e.getMessage() == null || e.getMessage().length() <= 300 ? e.getMessage() : e.getMessage().substring(0, 300);
        } catch (MethodNotAllowedOnJoin e) {
            result = ApiHandler.error(405, "method " + dev.tresor.model.Names.printable(request.getMethod())
                    + " is not allowed here; use POST", requestId);
            outcome = "rejected";
            detail = "method not allowed";
        } catch (TooManyAttempts e) {
            result = ApiHandler.error(429, "too many join attempts from this address; wait a minute and retry", requestId);
            outcome = "denied";
            detail = "rate limited";
        } catch (AuditUnavailableException e) {
            result = ApiHandler.error(Failure.UNAVAILABLE, "audit log unavailable; request refused", requestId);
            outcome = "error";
        } catch (RuntimeException e) {
            LOG.error("join request {} failed", requestId, e);
            result = ApiHandler.error(500, "internal error; quote request id " + requestId + " to the operator", requestId);
            outcome = "error";
            detail = e.getClass().getSimpleName();
        }
        try {
            audit.record(new AuditEvent(clock.instant(), requestId, identity, action, null, null, outcome, result.status(),
                    source, detail));
        } catch (AuditUnavailableException e) {
            metrics.auditFailure();
            result = ApiHandler.error(Failure.UNAVAILABLE, "audit log unavailable; request refused", requestId);
        }
        metrics.request(action, result.status(), System.nanoTime() - started);
        response.setStatus(result.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, result.contentType());
        response.getHeaders().put("X-Request-Id", requestId);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (result.status() == 405) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
        }
        // As on the API port: a refused request's unread body would otherwise cost the keep-alive connection.
        ApiHandler.finishReadingBody(request, response, result.status(), MAX_BODY_BYTES);
        WipeableBuffer out = result.body();
        response.write(true, out.asByteBuffer(), Callback.from(() -> {
            out.wipe();
            callback.succeeded();
        }, failure -> {
            out.wipe();
            callback.failed(failure);
        }));
        return true;
    }

    private static final class MethodNotAllowedOnJoin extends RuntimeException {
        MethodNotAllowedOnJoin() {
            super(null, null, false, false);
        }
    }

    private static final class TooManyAttempts extends RuntimeException {
        TooManyAttempts() {
            super(null, null, false, false);
        }
    }

    private static byte[] readBody(Request request) {
        ApiHandler.requireJson(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
        try (InputStream in = Request.asInputStream(request)) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                throw new TresorException(Failure.TOO_LARGE, "request body exceeds " + MAX_BODY_BYTES + " bytes");
            }
            return body;
        } catch (IOException e) {
            throw TresorException.badRequest("the request body could not be read: " + e.getMessage());
        }
    }
}
