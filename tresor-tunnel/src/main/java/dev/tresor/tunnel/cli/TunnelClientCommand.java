package dev.tresor.tunnel.cli;

import dev.tresor.tunnel.config.Mode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tresor tunnel client}. */
@Command(name = "client", footerHeading = "%nExamples:%n",
        footer = {
                "  tresor tunnel client --listen 127.0.0.1:13306 --target db.internal:3307 \\",
                "      --expect spiffe://tresor.local/ns/openemr/sa/mariadb \\",
                "      --cert app.crt --key app.key --ca-bundle ca.pem",
        },
        description = "Accept plaintext from a local app and forward it over mutual TLS to a tunnel server "
                + "with the expected identity.")
public final class TunnelClientCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Mixin
    private TunnelOptions options;

    @Option(names = "--expect", required = true, paramLabel = "SPIFFE-ID", description = "identities the server must have (exact, or the same patterns as --allow); "
            + "repeatable")
    private List<String> expect;

    @Override
    public Integer call() {
        try {
            return TunnelProcess.run(options.toConfig(Mode.CLIENT, "--expect", expect), spec.commandLine().getOut(),
                    spec.commandLine().getErr());
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tresor: " + e.getMessage());
            return TunnelProcess.USAGE;
        }
    }
}
