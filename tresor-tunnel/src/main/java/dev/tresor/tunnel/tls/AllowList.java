package dev.tresor.tunnel.tls;

import java.util.ArrayList;
import java.util.List;

/** The identities a tunnel accepts as peers: any of several {@link IdentityPattern}s. */
public record AllowList(List<IdentityPattern> patterns) {

    public AllowList {
        patterns = List.copyOf(patterns);
        if (patterns.isEmpty()) {
            throw new IllegalArgumentException("the allow list is empty; a tunnel that admits nobody is a mistake");
        }
    }

    /** @param field names the option or config field in error messages, e.g. "--allow" */
    public static AllowList parse(String field, List<String> texts) {
        if (texts == null || texts.isEmpty()) {
            throw new IllegalArgumentException(field + " is required: name at least one identity, e.g. "
                    + "spiffe://tresor.local/ns/openemr/sa/openemr");
        }
        List<IdentityPattern> patterns = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            try {
                patterns.add(IdentityPattern.parse(texts.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + (texts.size() > 1 ? "[" + i + "]" : "") + ": " + e.getMessage(), e);
            }
        }
        return new AllowList(patterns);
    }

    public boolean allows(String identity) {
        return patterns.stream().anyMatch(p -> p.matches(identity));
    }

    @Override
    public String toString() {
        return patterns.toString();
    }
}
