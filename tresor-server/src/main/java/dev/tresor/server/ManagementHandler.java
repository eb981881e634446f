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

    ManagementHandler(TresorMetrics metrics, BooleanSupplier ready) {
        super(InvocationType.BLOCKING);
        this.metrics = metrics;
        this.ready = ready;
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
            default -> reply(response, callback, 404, "text/plain", "not found; try /healthz, /readyz or /metrics\n");
        };
    }

    private static boolean reply(Response response, Callback callback, int status, String type, String body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.write(true, java.nio.ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
        return true;
    }
}
