package dev.tresor.mesh.check;

/** The enforcement layers the checker evaluates, each separately. */
public enum Layer {
    NETWORK_POLICY("NetworkPolicy"),
    AUTHORIZATION("AuthorizationPolicy"),
    EGRESS_FIREWALL("EgressFirewall");

    private final String label;

    Layer(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
