package dev.tresor.tunnel.tls;

import dev.tresor.ca.Identities;
import java.util.List;
import java.util.Objects;

/**
 * One entry of an allow list: a SPIFFE ID, matched exactly, or a pattern over its path.
 *
 * <ul>
 *   <li>{@code spiffe://tresor.local/ns/openemr/sa/openemr}: exactly this identity.</li>
 *   <li>{@code *} as a whole path segment matches exactly one segment:
 *       {@code spiffe://tresor.local/ns/openemr/sa/*} matches {@code .../sa/openemr} but not
 *       {@code .../sa/openemr/extra}.</li>
 *   <li>{@code **} as the last segment matches one or more segments:
 *       {@code spiffe://tresor.local/ns/openemr/**} matches every identity under
 *       {@code ns/openemr/}, but not {@code ns/openemr} itself nor {@code ns/openemr-test/...}.</li>
 * </ul>
 *
 * The trust domain is never a pattern, and {@code *} inside a segment ({@code sa-*}) is refused:
 * a pattern means whole segments so that it cannot match more than it reads as.
 */
public record IdentityPattern(String text, List<String> segments, boolean anyDepthTail) {

    private static final String ONE = "*";
    private static final String ANY = "**";

    public IdentityPattern {
        Objects.requireNonNull(text, "text");
        segments = List.copyOf(segments);
    }

    /** @throws IllegalArgumentException saying what is wrong with the pattern */
    public static IdentityPattern parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("identity pattern is empty; use e.g. spiffe://tresor.local/ns/app/sa/app");
        }
        if (!text.startsWith(Identities.SPIFFE_SCHEME_PREFIX)) {
            throw new IllegalArgumentException("identity pattern '" + text + "' must be a spiffe:// ID, e.g. "
                    + "spiffe://tresor.local/ns/app/sa/app or spiffe://tresor.local/ns/app/*");
        }
        String rest = text.substring(Identities.SPIFFE_SCHEME_PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("identity pattern '" + text + "' needs a trust domain and a path");
        }
        String domain = rest.substring(0, slash);
        if (domain.contains("*")) {
            throw new IllegalArgumentException("identity pattern '" + text + "': the trust domain cannot be a wildcard");
        }
        List<String> segments = List.of(rest.substring(slash + 1).split("/", -1));
        boolean anyDepth = false;
        StringBuilder concrete = new StringBuilder(Identities.SPIFFE_SCHEME_PREFIX).append(domain);
        for (int i = 0; i < segments.size(); i++) {
            String segment = segments.get(i);
            if (segment.equals(ANY)) {
                if (i != segments.size() - 1) {
                    throw new IllegalArgumentException("identity pattern '" + text + "': '**' may only be the last segment");
                }
                anyDepth = true;
                concrete.append("/x");
            } else if (segment.equals(ONE)) {
                concrete.append("/x");
            } else if (segment.contains("*")) {
                throw new IllegalArgumentException("identity pattern '" + text + "': '*' must be a whole path segment"
                        + " ('/*/' for one segment, a final '/**' for any depth), not part of '" + segment + "'");
            } else {
                concrete.append('/').append(segment);
            }
        }
        // Whatever is left with the wildcards filled in must be a valid identity (one spelling, no '..', ...).
        Identities.identityProblem(concrete.toString()).ifPresent(problem -> {
            throw new IllegalArgumentException("identity pattern '" + text + "': " + problem);
        });
        List<String> all = new java.util.ArrayList<>();
        all.add(domain);
        all.addAll(anyDepth ? segments.subList(0, segments.size() - 1) : segments);
        return new IdentityPattern(text, all, anyDepth);
    }

    /** Whether a valid identity (see {@link Identities#identityOf}) matches. */
    public boolean matches(String identity) {
        if (identity == null || !identity.startsWith(Identities.SPIFFE_SCHEME_PREFIX)) {
            return false;
        }
        String rest = identity.substring(Identities.SPIFFE_SCHEME_PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return false;
        }
        List<String> parts = new java.util.ArrayList<>();
        parts.add(rest.substring(0, slash));
        parts.addAll(List.of(rest.substring(slash + 1).split("/", -1)));
        if (anyDepthTail ? parts.size() <= segments.size() : parts.size() != segments.size()) {
            return false;
        }
        for (int i = 0; i < segments.size(); i++) {
            String want = segments.get(i);
            if (!(i > 0 && want.equals(ONE)) && !want.equals(parts.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }
}
