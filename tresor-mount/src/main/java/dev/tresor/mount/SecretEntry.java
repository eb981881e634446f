package dev.tresor.mount;

import java.time.Instant;

/**
 * One readable secret as the listing shows it (never its value).
 *
 * @param currentVersion the version the file {@code NAME} shows; null when no version is current
 * @param latestVersion  the highest version number, so {@code NAME@versions/1..latest} exist
 * @param updatedAt      the file's modification time
 */
record SecretEntry(String name, Integer currentVersion, int latestVersion, Instant updatedAt) {}
