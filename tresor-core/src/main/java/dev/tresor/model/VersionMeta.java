package dev.tresor.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** One version's metadata; {@code destroyed} once its data key has been erased. */
public record VersionMeta(int version, Instant createdAt, String createdBy, Instant expiresAt, List<String> labels,
                          Map<String, String> metadata, boolean destroyed, boolean expired) {}
