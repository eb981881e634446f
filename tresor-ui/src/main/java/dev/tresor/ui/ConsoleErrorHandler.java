package dev.tresor.ui;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own answers, for requests refused before the console's handler runs (a malformed
 * request line, headers too large, a bad URI): a short plain-text sentence with the console's
 * security headers, never Jetty's HTML page or a stack trace.
 */
final class ConsoleErrorHandler extends ErrorHandler {

    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        SecurityHeaders.apply(response.getHeaders());
        String text = switch (code) {
            case 431 -> "request headers too large";
            case 414 -> "request URI too long";
            case 413 -> "request too large";
            case 404 -> "not found";
            default -> "the console could not read this request (HTTP " + code + ")";
        };
        response.getHeaders().put("Content-Type", "text/plain; charset=utf-8");
        response.write(true, ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8)), callback);
    }
}
