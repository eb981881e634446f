package dev.tresor.rotation.config;

/**
 * @param sql   a query run as the new slot user; it must succeed and return at least one row
 * @param fatal whether a failed query rolls back (true by default)
 */
public record Validation(String sql, boolean fatal) {}
