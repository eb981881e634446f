package dev.tresor.mesh.check;

/**
 * A policy uses a feature the checker does not model. The checker refuses it rather than guess,
 * since a guess could prove reachability that is not there (or hide some that is).
 */
public final class UnsupportedPolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public UnsupportedPolicyException(String object, String field, String why) {
        super(object + ": " + field + ": " + why + " (not modelled by tresor mesh check; see docs/mesh.md)");
    }
}
