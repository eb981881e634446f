package dev.tresor.agent.config;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Which version of a secret to read: the current one, a fixed {@code version}, or the version a
 * {@code label} points to (at most one of the two).
 */
public record SecretRef(String name, Integer version, String label) {

    private static final String NAME = "[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*";

    public SecretRef {
        if (name == null || name.length() > 255 || !name.matches(NAME) || ("/" + name + "/").contains("/./")
                || ("/" + name + "/").contains("/../")) {
            throw new IllegalArgumentException("'" + name + "' is not a secret name (segments of [A-Za-z0-9._-] joined by /)");
        }
        if (version != null && label != null) {
            throw new IllegalArgumentException("give either version or label, not both");
        }
        if (version != null && version < 1) {
            throw new IllegalArgumentException("version must be 1 or more");
        }
        if (label != null && !label.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("label '" + label + "' may only contain [A-Za-z0-9._-]");
        }
    }

    /** The API path and query that read it: {@code /v1/secrets/NAME?label=L}. */
    public String path() {
        String query = version != null ? "?version=" + version
                : label != null ? "?label=" + URLEncoder.encode(label, StandardCharsets.UTF_8) : "";
        return "/v1/secrets/" + name + query;
    }

    @Override
    public String toString() {
        return name + (version != null ? "@" + version : label != null ? "@" + label : "");
    }
}
