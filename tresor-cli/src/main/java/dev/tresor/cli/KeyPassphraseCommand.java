package dev.tresor.cli;

import dev.tresor.crypto.Passphrase;
import dev.tresor.server.bootstrap.KeyPassphraseChange;
import dev.tresor.server.config.ConfigException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "passphrase", description = {
                "Seal the local key file (keyProvider.kind local) by a passphrase, or re-seal it under a new one.",
                "The KEK does not change, so nothing it wraps is touched and a running server keeps working.",
                "The config's keyProvider block then names where the server reads the passphrase at start.",
                "The old passphrase, if any, is read from the config's own source. Needs no server.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor key passphrase --config /var/lib/tresor/tresor.yaml \\",
                "      --new-passphrase-file /etc/tresor/kek.pass",
                "  TRESOR_KEK_PASS=... tresor key passphrase --config tresor.yaml \\",
                "      --new-passphrase-env TRESOR_KEK_PASS",
        })
final class KeyPassphraseCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    private final CliContext context;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The server's tresor.yaml.")
    private Path config;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Source source;

    static final class Source {
        @Option(names = "--new-passphrase-file", paramLabel = "FILE",
                description = "A 0600 file whose first line is the new passphrase (at least 12 characters).")
        Path file;

        @Option(names = "--new-passphrase-env", paramLabel = "VAR",
                description = "An environment variable holding the new passphrase (also read at each start).")
        String variable;
    }

    KeyPassphraseCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        Passphrase next = source.file != null ? Passphrase.fromFile(source.file) : Passphrase.fromEnvironment(source.variable);
        KeyPassphraseChange.Result result;
        try {
            result = KeyPassphraseChange.apply(config, next, context.env());
        } catch (ConfigException e) {
            throw CliException.usage(e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            throw CliException.error(e.getMessage());
        }
        com.fasterxml.jackson.databind.node.ObjectNode answer = Json.object();
        answer.put("keyFile", result.keyFile().toString());
        answer.put("kekId", result.keyId());
        answer.put("wasSealed", result.wasSealed());
        answer.put("config", result.configField());
        if (output.structured()) {
            output.print(context.out(), answer);
        } else {
            context.out().println((result.wasSealed() ? "re-sealed " : "sealed ") + result.keyFile()
                    + " by the new passphrase (KEK " + result.keyId() + ", unchanged)");
            context.err().println("config: " + result.configField() + "; keep the passphrase safe: without it the "
                    + "KEK, and so the store, cannot be opened");
        }
        return ExitCodes.OK;
    }
}
