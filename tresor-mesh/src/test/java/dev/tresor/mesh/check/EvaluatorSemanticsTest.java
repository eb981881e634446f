package dev.tresor.mesh.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.mesh.topology.Port;
import dev.tresor.mesh.topology.Protocol;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The documented Kubernetes, Istio and OVN rules, one at a time, on hand-written policies. */
class EvaluatorSemanticsTest {

    private static final Endpoint WEB = Endpoint.pod("web", "shop", Map.of("kubernetes.io/metadata.name", "shop"),
            Map.of("app", "web"), "cluster.local/ns/shop/sa/web");
    private static final Endpoint DB = Endpoint.pod("db", "shop", Map.of("kubernetes.io/metadata.name", "shop"),
            Map.of("app", "db"), "cluster.local/ns/shop/sa/db");
    private static final Endpoint OUTSIDER = Endpoint.pod("x", "other", Map.of("kubernetes.io/metadata.name", "other", "team", "a"),
            Map.of("app", "web"), "cluster.local/ns/other/sa/x");

    private static PolicySet policies(String yaml) throws IOException {
        return new PolicyParser().parse(new ManifestReader().read(yaml, "t.yaml"), "shop");
    }

    @Test
    void unselectedPodsAreNotIsolatedAndRulesAddUp() throws IOException {
        NetworkPolicyEvaluator none = new NetworkPolicyEvaluator(policies(""), "shop");
        assertThat(none.allows(WEB, DB, Port.tcp(5432))).isTrue();
        // policyTypes left out: Ingress only, since there are no egress rules.
        NetworkPolicyEvaluator ingressOnly = new NetworkPolicyEvaluator(policies("""
                kind: NetworkPolicy
                metadata: {name: db, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]
                ---
                kind: NetworkPolicy
                metadata: {name: db-metrics, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  ingress: [{ports: [{port: 9187}]}]
                """), "shop");
        assertThat(ingressOnly.allows(WEB, DB, Port.tcp(5432))).isTrue();
        assertThat(ingressOnly.allows(WEB, DB, new Port(5432, Protocol.UDP))).isFalse();
        assertThat(ingressOnly.allows(WEB, DB, Port.tcp(5433))).isFalse();
        // A podSelector alone means this namespace: the outsider with the same pod labels is refused.
        assertThat(ingressOnly.allows(OUTSIDER, DB, Port.tcp(5432))).isFalse();
        // A rule without peers admits every source on its ports.
        assertThat(ingressOnly.allows(OUTSIDER, DB, Port.tcp(9187))).isTrue();
        assertThat(ingressOnly.allows(DB, WEB, Port.tcp(1))).isTrue();
    }

    @Test
    void namespaceAndPodSelectorsInOnePeerMustBothMatch() throws IOException {
        NetworkPolicyEvaluator both = new NetworkPolicyEvaluator(policies("""
                kind: NetworkPolicy
                metadata: {name: db, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  policyTypes: [Ingress]
                  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: other}}}]}]
                """), "shop");
        assertThat(both.allows(OUTSIDER, DB, Port.tcp(5432))).isFalse();
        NetworkPolicyEvaluator nsOnly = new NetworkPolicyEvaluator(policies("""
                kind: NetworkPolicy
                metadata: {name: db, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  policyTypes: [Ingress]
                  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}]}]
                """), "shop");
        assertThat(nsOnly.allows(OUTSIDER, DB, Port.tcp(5432))).isTrue();
        assertThat(nsOnly.allows(WEB, DB, Port.tcp(5432))).isFalse();
    }

    @Test
    void istioDenyWinsAndAnyAllowPolicyMakesTheRestDenied() throws IOException {
        String allowWeb = """
                kind: AuthorizationPolicy
                metadata: {name: allow-web, namespace: shop}
                spec:
                  selector: {matchLabels: {app: db}}
                  rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/web"]}}], to: [{operation: {ports: ["5432"]}}]}]
                """;
        AuthorizationEvaluator allow = new AuthorizationEvaluator(policies(allowWeb));
        assertThat(allow.allows(WEB, DB.podLabels(), Port.tcp(5432))).isTrue();
        assertThat(allow.allows(WEB, DB.podLabels(), Port.tcp(5433))).isFalse();
        assertThat(allow.allows(OUTSIDER, DB.podLabels(), Port.tcp(5432))).isFalse();
        // No ALLOW policy applies to web: allowed.
        assertThat(allow.allows(DB, WEB.podLabels(), Port.tcp(8080))).isTrue();
        AuthorizationEvaluator denied = new AuthorizationEvaluator(policies(allowWeb + """
                ---
                kind: AuthorizationPolicy
                metadata: {name: deny-shop, namespace: shop}
                spec:
                  action: DENY
                  rules: [{from: [{source: {namespaces: ["sho*"]}}]}]
                """));
        assertThat(denied.allows(WEB, DB.podLabels(), Port.tcp(5432))).isFalse();
        assertThat(denied.allows(OUTSIDER, WEB.podLabels(), Port.tcp(8080))).isTrue();
        // The allow-nothing policy (spec: {}) applies everywhere and matches nothing.
        AuthorizationEvaluator nothing = new AuthorizationEvaluator(policies("""
                kind: AuthorizationPolicy
                metadata: {name: deny-all, namespace: shop}
                spec: {}
                """));
        assertThat(nothing.allows(WEB, DB.podLabels(), Port.tcp(5432))).isFalse();
        // A rule that is empty matches every request.
        AuthorizationEvaluator everything = new AuthorizationEvaluator(policies("""
                kind: AuthorizationPolicy
                metadata: {name: allow-all, namespace: shop}
                spec: {rules: [{}]}
                """));
        assertThat(everything.allows(OUTSIDER, DB.podLabels(), Port.tcp(1))).isTrue();
        assertThat(AuthorizationEvaluator.istioMatch("*/sa/web", "cluster.local/ns/shop/sa/web")).isTrue();
        assertThat(AuthorizationEvaluator.istioMatch("cluster.local/*", "td/ns/shop/sa/web")).isFalse();
    }

    @Test
    void egressFirewallRulesApplyTopDown() throws IOException {
        EgressFirewallEvaluator firewall = new EgressFirewallEvaluator(policies("""
                kind: EgressFirewall
                metadata: {name: default, namespace: shop}
                spec:
                  egress:
                    - {type: Deny, to: {cidrSelector: 192.0.2.8/29}}
                    - {type: Allow, to: {cidrSelector: 192.0.2.0/24}, ports: [{port: 443, protocol: TCP}]}
                    - {type: Allow, to: {dnsName: "*.example.com"}}
                    - {type: Deny, to: {cidrSelector: 0.0.0.0/0}}
                """));
        assertThat(firewall.allows(Endpoint.external("a", null, "192.0.2.1/32"), Port.tcp(443))).isTrue();
        assertThat(firewall.allows(Endpoint.external("a", null, "192.0.2.9/32"), Port.tcp(443))).isFalse();
        assertThat(firewall.allows(Endpoint.external("a", null, "192.0.2.1/32"), Port.tcp(80))).isFalse();
        assertThat(firewall.allows(Endpoint.external("b", "api.example.com", null), Port.tcp(80))).isTrue();
        assertThat(firewall.allows(Endpoint.external("c", "example.org", null), Port.tcp(443))).isFalse();
        assertThat(new EgressFirewallEvaluator(policies("")).allows(Endpoint.external("c", "example.org", null), Port.tcp(443))).isTrue();
        assertThat(Cidrs.contains("10.0.0.0/8", "10.1.2.0/24")).isTrue();
        assertThat(Cidrs.contains("10.1.2.0/24", "10.0.0.0/8")).isFalse();
    }
}
