package dev.tresor.model;

import java.time.Instant;
import java.util.List;
import java.util.SortedMap;

/** What may be shown about a secret without its value. */
public record SecretMeta(String name, String description, List<String> groups, SortedMap<String, Integer> labels,
                         Integer currentVersion, int latestVersion, Instant createdAt, String createdBy,
                         Instant updatedAt, Instant deletedAt, boolean destroyed) {}
