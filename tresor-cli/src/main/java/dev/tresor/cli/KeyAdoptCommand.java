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
                "After tresor key migrate on another node (any providers): give this node's config the new",
                "keyProvider block, and the block it had before with --from-provider.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key adopt --config /var/lib/tresor/tresor.yaml \\",
                "      --from /root/kek-before.json",
                "  tresor key adopt --config /var/lib/tresor/tresor.yaml \\",
                "      --from-provider /root/provider-before.yaml",
        })
final class KeyAdoptCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    private final CliContext context;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "This node's tresor.yaml.")
    private Path config;

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    private Before before;

    /** What this node's files are wrapped by now: a key file, or any provider as a keyProvider block. */
    static final class Before {
        @Option(names = "--from", required = true, paramLabel = "KEYFILE",
                description = "The key file from before a KEK rotation (sealed by the same passphrase, if any).")
        Path keyFile;

        @Option(names = "--from-provider", required = true, paramLabel = "FILE",
                description = {"A file holding the keyProvider block this node's config named before another node ran",
                        "tresor key migrate (or, for pkcs11, before the KEK rotation: the old keyLabel)."})
        Path providerSpec;
    }

    private static String readSpec(Path file) {
        try {
            return java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw CliException.usage("--from-provider: cannot read " + file + ": " + e.getMessage());
        }
    }

    KeyAdoptCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        KekAdoption.Result result;
        try {
            result = before.keyFile != null ? KekAdoption.adopt(config, before.keyFile, context.env())
                    : KekAdoption.adoptFrom(config, readSpec(before.providerSpec), context.env());
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
                    + " CA key file(s) re-wrapped; start the server"
                    + (before.keyFile != null ? ", then destroy " + before.keyFile : "")
                    + " (keep the old KEK while a backup it opens is kept)");
        }
        return ExitCodes.OK;
    }
}
