package dev.tresor.rotation;

/**
 * @param dryRun      plan only: read and probe, change nothing (no secret version, no database or file change)
 * @param syncDbUsers recovery: if the active slot's stored password does not log in, set it on the database
 *                    and redeliver it to every consumer instead of stopping
 */
public record RunOptions(boolean dryRun, boolean syncDbUsers) {}
