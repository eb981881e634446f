package dev.tresor.store;

/** How the store's connection pool is used right now (for metrics). */
public record PoolUse(int active, int idle, int total, int waiting, int maximum) {}
