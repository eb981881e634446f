package dev.tresor.audit;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The store's write epochs (those of the ACL head and of the secret ledger head, both sealed by
 * the store head) as an audit checkpoint records them. Both only grow, so a store whose epochs are
 * behind what the audit chain once recorded was put back from an older copy.
 */
public record WriteEpochs(long acl, long secret) {

    public static final WriteEpochs NONE = new WriteEpochs(0, 0);

    private static final Pattern DETAIL = Pattern.compile("aclEpoch=(\\d{1,18}) secretEpoch=(\\d{1,18})");

    public WriteEpochs {
        if (acl < 0 || secret < 0) {
            throw new IllegalArgumentException("epochs are not negative: acl=" + acl + " secret=" + secret);
        }
    }

    /** True if either epoch of this is ahead of {@code other}'s: {@code other} lost writes this one saw. */
    public boolean aheadOf(WriteEpochs other) {
        return acl > other.acl || secret > other.secret;
    }

    /** The larger of each epoch. */
    public WriteEpochs max(WriteEpochs other) {
        return new WriteEpochs(Math.max(acl, other.acl), Math.max(secret, other.secret));
    }

    /** The detail of a checkpoint record. */
    String detail() {
        return "aclEpoch=" + acl + " secretEpoch=" + secret;
    }

    /** Reads {@link #detail()}; empty if {@code detail} is not exactly that form. */
    static Optional<WriteEpochs> parseDetail(String detail) {
        if (detail == null) {
            return Optional.empty();
        }
        Matcher m = DETAIL.matcher(detail);
        return m.matches() ? Optional.of(new WriteEpochs(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))))
                : Optional.empty();
    }

    @Override
    public String toString() {
        return "acl epoch " + acl + ", secret epoch " + secret;
    }
}
