package dev.tresor.mesh.check;

import java.util.Map;

/** A label selector reduced to what is modelled: matchLabels (null selector fields are handled by callers). */
record Labels(Map<String, String> matchLabels) {

    Labels {
        matchLabels = Map.copyOf(matchLabels);
    }

    /** Kubernetes and Istio alike: every listed label must be present with the same value; {} selects all. */
    boolean matches(Map<String, String> labels) {
        return labels.entrySet().containsAll(matchLabels.entrySet());
    }
}
