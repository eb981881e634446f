package dev.tresor.client.api;

/**
 * One entry of the change feed ({@code GET /v1/watch}): what happened to which secret, never a
 * value. {@code version} and {@code label} are null for kinds that have none.
 */
public record Change(String seq, String kind, String secret, Integer version, String label) {}
