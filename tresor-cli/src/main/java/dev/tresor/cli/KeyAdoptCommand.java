package dev.tresor.cli;

import dev.tresor.server.bootstrap.KekAdoption;
import dev.tresor.server.config.ConfigException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "adopt", description = {
                "On another node of the same database, after tresor key rotate --kek ran elsewhere and the new",
                "key file was copied to this node's keyProvider.path (server stopped): re-wrap this node's own",
                "files that the old KEK still wraps (audit chain keys, CA key, retired CA keys) under the new",
                "one. Checks that the store's keyring is wrapped by the new KEK. Safe to run twice.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key adopt --config /var/lib/tresor/tresor.yaml \\",
                "      --from /root/kek-before.json",
        })
final class KeyAdoptCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    private final CliContext context;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "This node's tresor.yaml.")
    private Path config;

    @Option(names = "--from", required = true, paramLabel = "KEYFILE",
            description = "The key file from before the rotation (sealed by the same passphrase, if any).")
    private Path from;

    KeyAdoptCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        KekAdoption.Result result;
        try {
            result = KekAdoption.adopt(config, from, context.env());
        } catch (ConfigException e) {
            throw CliException.usage(e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            throw CliException.error(e.getMessage());
        }
        com.fasterxml.jackson.databind.node.ObjectNode answer = Json.object();
        answer.put("fromKekId", result.fromKekId());
        answer.put("toKekId", result.toKekId());
        answer.put("auditChainKeys", result.auditChainKeys());
        var keys = answer.putArray("caKeys");
        result.caKeys().forEach(p -> keys.add(p.toString()));
        if (output.structured()) {
            output.print(context.out(), answer);
        } else {
            context.out().println("adopted KEK " + result.toKekId() + " (was " + result.fromKekId() + "): "
                    + result.auditChainKeys() + " audit chain key(s) and " + result.caKeys().size()
                    + " CA key file(s) re-wrapped; start the server, then destroy " + from);
        }
        return ExitCodes.OK;
    }
}
