package dev.tresor.tunnel.cli;

import dev.tresor.tunnel.config.ConfigFile;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tresor tunnel}: {@code server}, {@code client}, or several tunnels from {@code --config FILE}. */
@Command(name = "tunnel", subcommands = {TunnelServerCommand.class, TunnelClientCommand.class},
        description = {
                "A mutual-TLS proxy that admits peers by SPIFFE identity. 'server' sits beside a plaintext service "
                        + "(MariaDB, Redis) and forwards only peers whose identity is allowed; 'client' gives an app a "
                        + "local plaintext port and connects to a tunnel server whose identity it checks. Certificates, "
                        + "trust bundle and CRL are reloaded when their files change, without dropping connections. "
                        + "See docs/tunnel.md.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor tunnel server --listen 0.0.0.0:3307 --target 127.0.0.1:3306 \\",
                "      --allow spiffe://tresor.local/ns/openemr/sa/openemr \\",
                "      --cert db.crt --key db.key --ca-bundle ca.pem",
                "  tresor tunnel client --listen 127.0.0.1:13306 --target db.internal:3307 \\",
                "      --expect spiffe://tresor.local/ns/openemr/sa/mariadb \\",
                "      --cert app.crt --key app.key --ca-bundle ca.pem",
                "  tresor tunnel --config tunnels.yaml",
        })
public final class TunnelCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "run every tunnel of a YAML file (see docs/tunnel.md)")
    private Path config;

    @Override
    public Integer call() {
        if (config == null) {
            spec.commandLine().getErr().println("tresor: " + spec.qualifiedName() + " needs a subcommand or --config FILE");
            spec.commandLine().usage(spec.commandLine().getErr());
            return TunnelProcess.USAGE;
        }
        try {
            return TunnelProcess.run(ConfigFile.load(config), spec.commandLine().getOut(), spec.commandLine().getErr());
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("tresor: " + e.getMessage());
            return TunnelProcess.USAGE;
        }
    }
}
