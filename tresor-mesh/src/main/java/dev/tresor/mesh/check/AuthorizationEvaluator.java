package dev.tresor.mesh.check;

import dev.tresor.mesh.topology.Port;
import java.util.List;
import java.util.Map;

/**
 * Istio AuthorizationPolicy semantics for TCP traffic to a workload: a matching DENY policy
 * denies; else, if any ALLOW policy applies to the workload, the request is allowed only if one
 * of their rules matches; else it is allowed. A peer's principal counts only under STRICT mTLS
 * (otherwise a plaintext client presents none), which {@link MeshChecker} checks separately.
 */
public final class AuthorizationEvaluator {

    private final PolicySet policies;

    public AuthorizationEvaluator(PolicySet policies) {
        this.policies = policies;
    }

    public boolean allows(Endpoint source, Map<String, String> destinationLabels, Port port) {
        List<PolicySet.AuthzPolicy> applicable = policies.authorizationPolicies().stream()
                .filter(p -> p.selector() == null || p.selector().matches(destinationLabels)).toList();
        if (applicable.stream().filter(PolicySet.AuthzPolicy::deny).anyMatch(p -> matches(p, source, port))) {
            return false;
        }
        List<PolicySet.AuthzPolicy> allow = applicable.stream().filter(p -> !p.deny()).toList();
        return allow.isEmpty() || allow.stream().anyMatch(p -> matches(p, source, port));
    }

    private static boolean matches(PolicySet.AuthzPolicy policy, Endpoint source, Port port) {
        // No rules: the policy matches nothing (an ALLOW without rules is Istio's allow-nothing).
        return policy.rules().stream().anyMatch(rule -> matches(rule, source, port));
    }

    private static boolean matches(PolicySet.AuthzRule rule, Endpoint source, Port port) {
        boolean fromOk = rule.sources() == null || rule.sources().stream().anyMatch(s -> matches(s, source));
        boolean toOk = rule.operations() == null || rule.operations().stream()
                .anyMatch(o -> o.ports() == null || o.ports().contains(Integer.toString(port.number())));
        return fromOk && toOk;
    }

    private static boolean matches(PolicySet.Source s, Endpoint source) {
        if (s.principals() != null && (source.principal() == null
                || s.principals().stream().noneMatch(p -> istioMatch(p, source.principal())))) {
            return false;
        }
        // source.namespaces is derived from the peer certificate, so it too needs a principal.
        return s.namespaces() == null || (source.principal() != null
                && s.namespaces().stream().anyMatch(n -> istioMatch(n, source.namespace())));
    }

    /** Istio's string match: exact, "*", prefix "abc*" or suffix "*abc". */
    static boolean istioMatch(String pattern, String value) {
        if (value == null) return false;
        if (pattern.equals("*")) return true;
        if (pattern.endsWith("*")) return value.startsWith(pattern.substring(0, pattern.length() - 1));
        if (pattern.startsWith("*")) return value.endsWith(pattern.substring(1));
        return pattern.equals(value);
    }
}
