package dev.tresor.client.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A secret as a listing shows it: no value, only what the caller may see of its metadata.
 * {@code currentVersion} is null for a secret whose current version was removed; {@code updatedAt}
 * is null when the server did not say.
 */
public record SecretSummary(String name, List<String> groups, Map<String, Integer> labels, Integer currentVersion,
                            int latestVersion, Instant updatedAt, boolean deleted, boolean destroyed) {

    public SecretSummary {
        groups = List.copyOf(groups);
        labels = Map.copyOf(labels);
    }

    /** Neither deleted nor destroyed: what a reader can still get a value of. */
    public boolean live() {
        return !deleted && !destroyed;
    }
}
