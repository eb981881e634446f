package dev.tresor.mesh.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.mesh.render.Mode;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MeshCheckerTest {

    private final CheckFixture fixture = new CheckFixture();
    private static final Set<String> OPENEMR_EDGES = Set.of(
            "openemr -> mariadb:3306/TCP", "openemr -> redis:6379/TCP", "ingress:router -> openemr:8080/TCP");

    @Test
    void renderedOpenEmrAllowsExactlyItsEdges() {
        CheckReport report = fixture.check(fixture.openEmr, fixture.render(fixture.openEmr, Mode.MESH));
        assertThat(report.problems()).isEmpty();
        assertThat(report.ok()).isTrue();
        assertThat(report.allowedPairs()).isEqualTo(OPENEMR_EDGES);
        // Egress: openemr reaches its allow-list; the disabled FHIR entry and the probes reach nothing.
        assertThat(report.egress()).filteredOn(CheckReport.Row::allowed)
                .extracting(r -> r.source() + " -> " + r.destination() + ":" + r.port())
                .contains("openemr -> quay (quay.io):443/TCP", "openemr -> ntp (pool.ntp.org):123/UDP",
                        "mariadb -> cluster-dns:5353/UDP", "redis -> istiod:15012/TCP")
                .noneMatch(s -> s.contains("fhir") || s.contains("probe") || s.startsWith("mariadb -> quay"));
        String text = report.render();
        assertThat(text).contains("OK: default-deny with exactly the topology's edges")
                .containsPattern("(?m)^openemr +- +3306/TCP +6379/TCP +- *$")
                .containsPattern("(?m)^ingress:router +8080/TCP +- +- +- *$")
                .containsPattern("(?m)^probe:new-pod +- +- +- +- *$");
    }

    @Test
    void everyModeChecksCleanAgainstItsLayers() {
        assertThat(fixture.check(fixture.openEmr, fixture.render(fixture.openEmr, Mode.FULL)).problems()).isEmpty();
        CheckReport netpol = fixture.check(fixture.openEmr, fixture.render(fixture.openEmr, Mode.NETPOL_ONLY), EnumSet.of(Layer.NETWORK_POLICY));
        assertThat(netpol.problems()).isEmpty();
        assertThat(netpol.allowedPairs()).isEqualTo(OPENEMR_EDGES);
        assertThat(netpol.notes()).singleElement().asString().contains("DNS names");
        CheckReport egress = fixture.check(fixture.openEmr, fixture.render(fixture.openEmr, Mode.EGRESS_ONLY), EnumSet.of(Layer.EGRESS_FIREWALL));
        assertThat(egress.problems()).isEmpty();
        assertThat(egress.egress()).filteredOn(CheckReport.Row::allowed).extracting(CheckReport.Row::destination)
                .containsOnly("quay (quay.io)", "docker-hub (registry-1.docker.io)", "open-emr-org (open-emr.org)",
                        "ntp (pool.ntp.org)", "dns (8.8.8.8/32)");
    }

    /** The rendered ingress side of openemr -> mariadb, as the golden file has it. */
    private static final String MARIADB_INGRESS_PEER = "        - podSelector:\n"
            + "            matchLabels:\n"
            + "              app: openemr\n"
            + "      ports:\n"
            + "        - port: 3306\n";

    @Test
    void aHandEditedExtraNetworkPolicyRuleIsCaught() {
        // "Let the backup job in": a peer selecting every namespace, added to mariadb's ingress policy.
        String base = fixture.render(fixture.openEmr, Mode.MESH);
        assertThat(base).contains(MARIADB_INGRESS_PEER);
        String yaml = base.replace(MARIADB_INGRESS_PEER, MARIADB_INGRESS_PEER.replace("      ports:\n",
                "        - namespaceSelector: {}\n      ports:\n"));
        CheckReport report = fixture.check(fixture.openEmr, yaml);
        assertThat(report.ok()).isFalse();
        assertThat(report.problems()).containsExactlyInAnyOrder(
                "ingress:router -> mariadb:3306/TCP: layers disagree: NetworkPolicy allows it, AuthorizationPolicy blocks it; the topology does not name it",
                "probe:other-namespace -> mariadb:3306/TCP: layers disagree: NetworkPolicy allows it, AuthorizationPolicy blocks it; the topology does not name it");
        assertThat(report.render()).contains("FAILED: 2 problem(s)");
    }

    @Test
    void anExtraRuleOnBothSidesOpeningAnUnnamedPairIsCaught() {
        // Open redis -> mariadb:3306 in NetworkPolicy on both sides; Istio's deny-all still blocks it.
        String extra = """
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: hand-edited, namespace: openemr}
                spec:
                  podSelector: {matchLabels: {app: redis}}
                  policyTypes: [Egress]
                  egress:
                    - to: [{podSelector: {matchLabels: {app: mariadb}}}]
                      ports: [{port: 3306}]
                """;
        String yaml = fixture.render(fixture.openEmr, Mode.MESH).replace(MARIADB_INGRESS_PEER, MARIADB_INGRESS_PEER.replace(
                "      ports:\n", "        - podSelector:\n            matchLabels:\n              app: redis\n      ports:\n")) + extra;
        CheckReport report = fixture.check(fixture.openEmr, yaml);
        assertThat(report.ok()).isFalse();
        assertThat(report.problems()).containsExactly("redis -> mariadb:3306/TCP: layers disagree: NetworkPolicy allows it, "
                + "AuthorizationPolicy blocks it; the topology does not name it");
        // With the NetworkPolicy layer alone it is simply allowed, which is just as wrong.
        assertThat(fixture.check(fixture.openEmr, yaml, EnumSet.of(Layer.NETWORK_POLICY)).problems())
                .containsExactly("redis -> mariadb:3306/TCP: allowed by NetworkPolicy but not in the topology");
    }

    @Test
    void anExtraAuthorizationPolicyIsCaughtEvenThoughNetworkPolicyBlocks() {
        String yaml = fixture.render(fixture.openEmr, Mode.MESH) + """
                ---
                apiVersion: security.istio.io/v1beta1
                kind: AuthorizationPolicy
                metadata: {name: too-wide, namespace: openemr}
                spec:
                  selector: {matchLabels: {app: redis}}
                  rules: [{from: [{source: {namespaces: ["*"]}}]}]
                """;
        CheckReport report = fixture.check(fixture.openEmr, yaml);
        assertThat(report.problems()).isNotEmpty().allSatisfy(p -> assertThat(p).contains("-> redis:")
                .contains("layers disagree: AuthorizationPolicy allows it, NetworkPolicy blocks it"));
        assertThat(report.problems()).anySatisfy(p -> assertThat(p).startsWith("probe:other-namespace -> redis:6379/TCP"));
    }

    @Test
    void aMissingEdgePolicyIsReportedAsBlocked() {
        String yaml = fixture.render(fixture.openEmr, Mode.MESH);
        String without = java.util.Arrays.stream(yaml.split("(?m)^(?=---\n)"))
                .filter(doc -> !doc.contains("name: allow-openemr-to-redis-6379")).reduce("", String::concat);
        assertThat(without).isNotEqualTo(yaml);
        assertThat(fixture.check(fixture.openEmr, without).problems())
                .containsExactly("openemr -> redis:6379/TCP: edge of the topology blocked by AuthorizationPolicy");
    }

    @Test
    void anEgressFirewallWithoutItsFinalDenyIsCaught() {
        String yaml = fixture.render(fixture.openEmr, Mode.MESH).replace("""
                    - to:
                        cidrSelector: 0.0.0.0/0
                      type: Deny
                """, "");
        assertThat(fixture.check(fixture.openEmr, yaml).problems())
                .contains("openemr -> egress fhir (fhir.example.org, disabled):443/TCP: allowed but not in the topology",
                        "openemr -> egress probe:unlisted-address (203.0.113.7/32):443/TCP: allowed but not in the topology");
    }

    @Test
    void mtlsMustBeStrict() {
        String yaml = fixture.render(fixture.openEmr, Mode.MESH).replace("mode: STRICT", "mode: PERMISSIVE");
        assertThat(fixture.check(fixture.openEmr, yaml).problems())
                .containsExactly("no PeerAuthentication with mtls.mode STRICT: plaintext peers present no principal, so the "
                        + "AuthorizationPolicies' principals prove nothing", "PeerAuthentication default has mode PERMISSIVE (must be STRICT)");
    }

    @Test
    void featuresThatAreNotModelledAreRefused() {
        String base = fixture.render(fixture.openEmr, Mode.MESH);
        assertRefused(base.replace("  podSelector:\n    matchLabels:\n      app: redis\n",
                "  podSelector:\n    matchExpressions: [{key: app, operator: In, values: [redis]}]\n"), "matchExpressions");
        assertRefused(base.replace("cidr: 8.8.8.8/32", "cidr: 8.8.8.0/24\n            except: [8.8.8.4/32]"), "ipBlock.except");
        assertRefused(base.replace("- port: 3306\n          protocol: TCP", "- port: mysql\n          protocol: TCP"), "named port 'mysql'");
        assertRefused(base.replace("      to:\n        - operation:\n            ports:\n              - \"3306\"",
                "      when: [{key: source.ip, values: [10.0.0.1]}]"), "field 'when'");
        assertRefused(base.replace("principals:\n              - cluster.local/ns/openemr/sa/openemr",
                "notPrincipals:\n              - cluster.local/ns/openemr/sa/redis"), "field 'notPrincipals'");
        assertRefused(base.replace("action: ALLOW", "action: CUSTOM"), "action CUSTOM");
        assertRefused(base + "---\napiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\n"
                + "metadata: {name: mesh-wide, namespace: istio-system}\nspec: {}\n", "only policies of the topology's namespace");
        assertRefused(base + "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
                + "metadata: {name: x, namespace: openemr}\nspec: {}\n", "kind AdminNetworkPolicy");
        assertRefused(base.replace("- port: 6379\n          protocol: TCP", "- port: 6379\n          endPort: 6380\n          protocol: TCP"), "field 'endPort'");
        // A required field missing: the API would refuse the object, so the checker does not evaluate it either.
        String noSelector = base.replace("spec:\n  podSelector: {}\n  policyTypes:\n    - Ingress\n    - Egress\n",
                "spec:\n  policyTypes:\n    - Ingress\n    - Egress\n");
        assertThat(noSelector).isNotEqualTo(base);
        assertRefused(noSelector, "NetworkPolicy default-deny: spec.podSelector: missing (required by the API)");
    }

    private void assertRefused(String yaml, String feature) {
        assertThatThrownBy(() -> fixture.check(fixture.openEmr, yaml))
                .isInstanceOf(UnsupportedPolicyException.class)
                .hasMessageContaining(feature)
                .hasMessageContaining("not modelled by tresor mesh check");
    }
}
