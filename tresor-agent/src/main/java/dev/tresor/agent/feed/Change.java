package dev.tresor.agent.feed;

/** One entry of the change feed (docs/delivery.md); never a value. {@code version}/{@code label} may be null. */
public record Change(String seq, String kind, String secret, Integer version, String label) {

    /** Kinds after which the secret can no longer be read as before: its file goes (unless keepOnRevoke). */
    public boolean removes() {
        return switch (kind) {
            case "deleted", "destroyed", "revoked" -> true;
            default -> false;
        };
    }
}
