package dev.tresor.audit;

import java.time.Instant;
import java.util.Objects;

/**
 * One audited request or audit-system event. It has no field for a secret's value, so a value
 * can never reach the audit log by construction; {@code detail} is a short human note (an error
 * class, a reason for denial), never request or response content.
 *
 * @param time      when the request was decided
 * @param requestId the request id also returned to the client (null for audit-system events)
 * @param client    the caller's identity or client name; null when the caller is unauthenticated
 * @param action    what was attempted, e.g. {@code "secret.read"}; the {@code audit.*} actions are
 *                  written by the audit system itself
 * @param secret    the secret's name, or null when the action concerns no secret
 * @param version   the secret version, or null
 * @param outcome   {@code "allowed"}, {@code "denied"}, {@code "error"}, {@code "tamper"}, ...
 * @param status    the HTTP status answered (0 for events that are not requests)
 * @param source    the remote address, or null
 * @param detail    a short note, or null
 */
public record AuditEvent(
        Instant time,
        String requestId,
        String client,
        String action,
        String secret,
        Integer version,
        String outcome,
        int status,
        String source,
        String detail) {

    public AuditEvent {
        // Without these three a record answers none of "when, what, how did it end" and cannot
        // serve as evidence; reject it at the source rather than write a useless line.
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        if (action.isBlank()) {
            throw new IllegalArgumentException("audit action must not be blank");
        }
        if (outcome.isBlank()) {
            throw new IllegalArgumentException("audit outcome must not be blank");
        }
    }
}
