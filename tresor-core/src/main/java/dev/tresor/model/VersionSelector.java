package dev.tresor.model;

/** Which version a read wants: a number, a label, or (both null) the {@code current} label. */
public record VersionSelector(Integer version, String label) {

    public static final String CURRENT = "current";
    public static final String PREVIOUS = "previous";
    public static final String PENDING = "pending";

    public static VersionSelector current() {
        return new VersionSelector(null, null);
    }

    public VersionSelector {
        if (version != null && label != null) {
            throw TresorException.badRequest("give either version or label, not both");
        }
        if (version != null && version < 1) {
            throw TresorException.badRequest("version must be 1 or more");
        }
        if (label != null) {
            Names.label(label);
        }
    }
}
