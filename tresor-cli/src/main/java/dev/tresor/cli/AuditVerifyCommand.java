package dev.tresor.cli;

import dev.tresor.audit.AuditVerifier;
import dev.tresor.audit.VerificationResult;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {
                "Check an audit log's keyed hash chain offline: any edited, dropped or reordered record is found.",
                "Needs the KEK that wraps the chain key: --key FILE, or the server config's keyProvider (--config), "
                        + "or kek.json beside the log. Exit 0 if intact, 1 if broken.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor audit verify ~/.tresor/dev/audit.log",
                "  tresor audit verify /backup/audit.log --key /secure/kek.json",
                "  tresor audit verify /var/lib/tresor/audit.log \\",
                "      --config /var/lib/tresor/tresor.yaml",
        })
final class AuditVerifyCommand implements java.util.concurrent.Callable<Integer> {

    private final CliContext context;

    @Parameters(index = "0", paramLabel = "FILE", description = "The audit log.")
    private Path logFile;

    @ArgGroup(exclusive = true)
    private KeySource keySource;

    static final class KeySource {
        @Option(names = "--key", paramLabel = "KEKFILE", description = "The local KEK file (kek.json, mode 0600).")
        Path keyFile;

        @Option(names = "--config", paramLabel = "SERVERCONFIG", description = "The server config (tresor.yaml); its keyProvider is used.")
        Path config;
    }

    AuditVerifyCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        if (!Files.isRegularFile(logFile)) {
            throw CliException.usage(logFile + (Files.exists(logFile) ? " is not a regular file" : " does not exist"));
        }
        KeyProvider kek = loadKek(kekFile());
        VerificationResult result = AuditVerifier.verify(logFile, kek);
        if (result.ok()) {
            context.out().println("OK: " + logFile + ": " + result.records() + " records, hash chain intact; "
                    + (result.cleanlyClosed() ? "the log was closed cleanly"
                    : "the log is still open (server running) or its writer stopped without closing it"));
            return ExitCodes.OK;
        }
        String where = result.firstBadLine() > 0 && (result.problem() == null
                || !result.problem().contains("line " + result.firstBadLine())) ? "line " + result.firstBadLine() + ": " : "";
        context.out().println("BROKEN: " + logFile + ": " + where + result.problem()
                + " (" + result.records() + " records verified before it)");
        return ExitCodes.ERROR;
    }

    private Path kekFile() {
        if (keySource != null && keySource.keyFile != null) {
            return keySource.keyFile;
        }
        if (keySource != null && keySource.config != null) {
            try {
                return ConfigLoader.load(keySource.config).keyFile();
            } catch (ConfigException e) {
                throw CliException.usage("--config " + keySource.config + ": " + e.getMessage());
            }
        }
        Path beside = logFile.toAbsolutePath().resolveSibling("kek.json");
        if (Files.isRegularFile(beside)) {
            return beside;
        }
        throw CliException.usage("no KEK to check the chain with: pass --key KEKFILE or --config SERVERCONFIG"
                + " (there is no kek.json beside " + logFile + ")");
    }

    private static KeyProvider loadKek(Path file) {
        try {
            return LocalKeyProvider.load(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw CliException.usage(e.getMessage());
        }
    }
}
