package dev.tresor.rotation;

/** A parsed secret value and the version it came from. */
public record Versioned<T>(int version, T value) {}
