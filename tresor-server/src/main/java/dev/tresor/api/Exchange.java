package dev.tresor.api;

import dev.tresor.cache.VerifiedRows;
import dev.tresor.model.Failure;
import dev.tresor.model.TresorException;
import java.util.List;
import java.util.Map;

/**
 * One API request as the routes see it: method, path segments after /v1, query, body, Accept,
 * and the verified rows the request may reuse (taken once, when it arrived).
 */
record Exchange(String method, List<String> path, Map<String, String> query, BodySource body, String accept,
                VerifiedRows.View view, java.util.function.UnaryOperator<String> headers) {

    Exchange(String method, List<String> path, Map<String, String> query, BodySource body, String accept) {
        this(method, path, query, body, accept, VerifiedRows.View.NONE, name -> null);
    }

    /** A request header's value, or null. */
    String header(String name) {
        return headers.apply(name);
    }

    @FunctionalInterface
    interface BodySource {
        byte[] read();
    }

    String param(String name) {
        return query.get(name);
    }

    Integer intParam(String name) {
        String v = query.get(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw TresorException.badRequest("query parameter '" + name + "' must be a whole number");
        }
    }

    boolean boolParam(String name) {
        String v = query.get(name);
        if (v == null) {
            return false;
        }
        return switch (v) {
            case "true", "1", "" -> true;
            case "false", "0" -> false;
            default -> throw new TresorException(Failure.BAD_REQUEST, "query parameter '" + name + "' must be true or false");
        };
    }

    boolean wantsRawBytes() {
        return accept != null && accept.contains("application/octet-stream");
    }
}
