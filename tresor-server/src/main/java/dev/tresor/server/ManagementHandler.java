package dev.tresor.server;

import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The management port: liveness, readiness and Prometheus metrics. Serves nothing secret, so it
 * can be plain HTTP on an internal address for probes and scrapers.
 */
final class ManagementHandler extends Handler.Abstract {

    private final TresorMetrics metrics;
    private final BooleanSupplier ready;

    private final dev.tresor.api.CaPublisher ca;

    /** @param ca what the CA publishes (trust bundle, CRL), or null without a CA */
    ManagementHandler(TresorMetrics metrics, BooleanSupplier ready, dev.tresor.api.CaPublisher ca) {
        super(InvocationType.BLOCKING);
        this.metrics = metrics;
        this.ready = ready;
        this.ca = ca;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        if (!request.getMethod().equals("GET") && !request.getMethod().equals("HEAD")) {
            return reply(response, callback, 405, "text/plain", "method not allowed\n");
        }
        return switch (request.getHttpURI().getPath()) {
            case "/healthz" -> reply(response, callback, 200, "text/plain", "ok\n");
            case "/readyz" -> ready.getAsBoolean()
                    ? reply(response, callback, 200, "text/plain", "ready\n")
                    : reply(response, callback, 503, "text/plain", "not ready\n");
            case "/metrics" -> reply(response, callback, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
            // Public by nature (a trust bundle and a signed revocation list), so served here too.
            case "/v1/ca/bundle" -> ca == null ? reply(response, callback, 404, "text/plain", "this server has no CA\n")
                    : reply(response, callback, 200, dev.tresor.api.CaPublisher.PEM_CHAIN_TYPE,
                            ca.bundlePem().getBytes(StandardCharsets.US_ASCII));
            case "/v1/ca/crl" -> ca == null ? reply(response, callback, 404, "text/plain", "this server has no CA\n")
                    : reply(response, callback, 200, dev.tresor.api.CaPublisher.CRL_TYPE, ca.crlDer());
            case "/v1/ca/crls" -> ca == null ? reply(response, callback, 404, "text/plain", "this server has no CA\n")
                    : reply(response, callback, 200, dev.tresor.api.CaPublisher.PEM_CRLS_TYPE,
                            ca.crlsPem().getBytes(StandardCharsets.US_ASCII));
            default -> reply(response, callback, 404, "text/plain",
                    "not found; try /healthz, /readyz, /metrics, /v1/ca/bundle, /v1/ca/crl or /v1/ca/crls\n");
        };
    }

    private static boolean reply(Response response, Callback callback, int status, String type, String body) {
        return reply(response, callback, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean reply(Response response, Callback callback, int status, String type, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.write(true, java.nio.ByteBuffer.wrap(body), callback);
        return true;
    }
}
