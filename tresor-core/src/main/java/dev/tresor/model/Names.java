package dev.tresor.model;

import java.util.regex.Pattern;

/**
 * The grammar of every name a caller can choose. Enforced at the edge so that a name can never
 * smuggle path tricks ({@code ..}, absolute paths, empty segments) into files the agent or the
 * FUSE mount render later, nor separators into the row encodings.
 */
public final class Names {

    public static final int MAX_SECRET_NAME = 255;
    public static final int MAX_SIMPLE_NAME = 64;

    /** Last segments that would collide with API sub-resources ({@code /v1/secrets/{name}/versions}). */
    private static final java.util.Set<String> RESERVED_LAST_SEGMENTS = java.util.Set.of("versions", "labels", "restore");

    private static final Pattern SIMPLE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private Names() {}

    /** Validates a path-like secret name: segments of {@code [A-Za-z0-9._-]} joined by '/', ≤ 255 chars. */
    public static String secret(String name) {
        if (name == null || name.isEmpty()) {
            throw TresorException.badRequest("secret name is empty");
        }
        if (name.length() > MAX_SECRET_NAME) {
            throw TresorException.badRequest("secret name is " + name.length() + " characters; at most "
                    + MAX_SECRET_NAME + " are allowed");
        }
        // One pass without splitting or regex: this runs on every request that names a secret.
        int lastSlash = name.lastIndexOf('/');
        if (lastSlash >= 0 && isReserved(name, lastSlash + 1)) {
            throw TresorException.badRequest("secret name '" + printable(name) + "' may not end in '/"
                    + name.substring(lastSlash + 1) + "': that word is reserved by the API");
        }
        int segmentStart = 0;
        for (int i = 0; i <= name.length(); i++) {
            if (i < name.length() && name.charAt(i) != '/') {
                if (!isNameChar(name.charAt(i))) {
                    throw TresorException.badRequest("secret name '" + printable(name)
                            + "' may only use letters, digits, '.', '_', '-' in segments joined by '/'");
                }
                continue;
            }
            int length = i - segmentStart;
            if (length == 0) {
                throw TresorException.badRequest("secret name '" + printable(name)
                        + "' has an empty segment (leading, trailing or double '/')");
            }
            if (name.charAt(segmentStart) == '.' && (length == 1 || (length == 2 && name.charAt(segmentStart + 1) == '.'))) {
                throw TresorException.badRequest("secret name '" + printable(name) + "' contains a '"
                        + name.substring(segmentStart, i) + "' segment; names are not relative paths");
            }
            segmentStart = i + 1;
        }
        return name;
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }

    private static boolean isReserved(String name, int from) {
        for (String word : RESERVED_LAST_SEGMENTS) {
            if (name.length() - from == word.length() && name.startsWith(word, from)) {
                return true;
            }
        }
        return false;
    }

    /** Validates a group, client or label name: 1–64 of {@code [A-Za-z0-9._-]}, not '.' or '..'. */
    public static String simple(String kind, String name) {
        if (name == null || !SIMPLE.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw TresorException.badRequest(kind + " name '" + printable(name == null ? "" : name)
                    + "' is invalid: use 1-64 letters, digits, '.', '_' or '-'");
        }
        return name;
    }

    public static String group(String name) {
        return simple("group", name);
    }

    public static String client(String name) {
        return simple("client", name);
    }

    public static String label(String name) {
        return simple("label", name);
    }

    /** A name as it may appear in an error message: control characters escaped, length capped. */
    public static String printable(String text) {
        StringBuilder out = new StringBuilder();
        int limit = Math.min(text.length(), 80);
        for (int i = 0; i < limit; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && Character.isISOControl(c))) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (text.length() > limit) {
            out.append("...");
        }
        return out.toString();
    }
}
