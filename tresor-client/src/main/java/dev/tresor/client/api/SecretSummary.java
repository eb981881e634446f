package dev.tresor.client.api;

import java.util.List;
import java.util.Map;

/**
 * A secret as a listing shows it: no value, only what the caller may see of its metadata.
 * {@code currentVersion} is null for a secret whose current version was removed.
 */
public record SecretSummary(String name, List<String> groups, Map<String, Integer> labels, Integer currentVersion,
                            int latestVersion, boolean deleted) {

    public SecretSummary {
        groups = List.copyOf(groups);
        labels = Map.copyOf(labels);
    }
}
