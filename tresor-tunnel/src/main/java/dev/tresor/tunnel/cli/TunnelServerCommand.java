package dev.tresor.tunnel.cli;

import dev.tresor.tunnel.config.Mode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tresor tunnel server}. */
@Command(name = "server", footerHeading = "%nExamples:%n",
        footer = {
                "  tresor tunnel server --listen 0.0.0.0:3307 --target 127.0.0.1:3306 \\",
                "      --allow spiffe://tresor.local/ns/openemr/sa/openemr \\",
                "      --allow 'spiffe://tresor.local/ns/ops/**' \\",
                "      --cert db.crt --key db.key --ca-bundle ca.pem --crl ca.crl",
        },
        description = "Accept mutual TLS from allowed SPIFFE identities and forward the bytes to a plaintext "
                + "target.")
public final class TunnelServerCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Mixin
    private TunnelOptions options;

    @Option(names = "--allow", required = true, paramLabel = "SPIFFE-ID", description = "identities allowed to connect: exact SPIFFE IDs or patterns (/*/ one segment, "
            + "a final /** any depth); repeatable")
    private List<String> allow;

    @Override
    public Integer call() {
        try {
            return TunnelProcess.run(options.toConfig(Mode.SERVER, "--allow", allow), spec.commandLine().getOut(),
                    spec.commandLine().getErr());
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tresor: " + e.getMessage());
            return TunnelProcess.USAGE;
        }
    }
}
