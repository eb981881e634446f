package dev.tresor.ui;

import org.eclipse.jetty.http.HttpFields;

/**
 * The headers every console answer carries. The policy allows scripts, styles, images and form
 * targets from the console itself only: no inline script or style (so an injected tag does not
 * run), no framing (clickjacking), no third-party request of any kind. Pages are never cached, as
 * one may hold a revealed value. The referrer policy is same-origin, not no-referrer: under
 * no-referrer browsers send {@code Origin: null} with a form POST, and the Origin check needs the
 * real one; no Referer leaves for another site either way, so the login URL's token does not leak.
 */
final class SecurityHeaders {

    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
            + "frame-ancestors 'none'; form-action 'self'";

    private SecurityHeaders() {}

    static void apply(HttpFields.Mutable headers) {
        headers.put("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("X-Frame-Options", "DENY");
        headers.put("Referrer-Policy", "same-origin");
        headers.put("Cross-Origin-Opener-Policy", "same-origin");
        headers.put("Cross-Origin-Resource-Policy", "same-origin");
        headers.put("Cache-Control", "no-store");
    }
}
