package dev.tresor.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A request to store a new version. {@code groups} (admins only) replaces the secret's groups when
 * not null; {@code cas} is the version the writer expects to be current (0 = must not exist yet);
 * {@code labels} default to ["current"].
 */
public record PutSecret(byte[] value, String description, Instant expiresAt, List<String> groups,
                        Map<String, String> metadata, Integer cas, List<String> labels) {

    @Override
    public String toString() {
        return "PutSecret[value=(" + (value == null ? 0 : value.length) + " bytes), groups=" + groups + ", cas=" + cas
                + ", labels=" + labels + "]";
    }
}
