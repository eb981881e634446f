package dev.tresor.feed;

import java.time.Instant;

/** One change as a watcher sees it: which secret, what happened, never a value. */
public record Change(long seq, ChangeKind kind, String secret, Integer version, String label, Instant at) {}
