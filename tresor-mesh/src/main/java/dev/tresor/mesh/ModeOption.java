package dev.tresor.mesh;

import dev.tresor.mesh.render.Mode;
import picocli.CommandLine.Option;

/** The mutually exclusive mode flags shared by render and check (none given: the mesh policies). */
final class ModeOption {

    @Option(names = "--full", description = "Also the Namespace and, on OpenShift Service Mesh, the SMCP and SMMR.")
    boolean full;

    @Option(names = "--netpol-only", description = "NetworkPolicies only (a default-deny namespace without a mesh).")
    boolean netpolOnly;

    @Option(names = "--egress-only", description = "The EgressFirewall only.")
    boolean egressOnly;

    static Mode of(ModeOption option) {
        if (option == null) return Mode.MESH;
        if (option.full) return Mode.FULL;
        if (option.netpolOnly) return Mode.NETPOL_ONLY;
        if (option.egressOnly) return Mode.EGRESS_ONLY;
        return Mode.MESH;
    }
}
