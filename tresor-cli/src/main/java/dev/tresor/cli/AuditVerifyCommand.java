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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "verify", description = {
                "Check an audit log's keyed hash chain offline: any edited, dropped or reordered record is found.",
                "A segmented log is checked as one chain: give its folder, or its segment files in any order; "
                        + "each segment must continue from the last record of the one before.",
                "The logs of several server nodes (one PostgreSQL) may be given together: each node's chain "
                        + "(by the node id in its records) is checked on its own, one line per node.",
                "Needs the KEK that wraps the chain key: --key FILE, or the server config's keyProvider (--config), "
                        + "or kek.json beside the log. Exit 0 if intact, 1 if broken.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor audit verify ~/.tresor/dev/audit.log",
                "  tresor audit verify /var/lib/tresor/audit/    (all segments in the folder)",
                "  tresor audit verify /archive/audit-1.log /var/lib/tresor/audit/audit.log",
                "  tresor audit verify /backup/audit.log --key /secure/kek.json",
                "  tresor audit verify /var/lib/tresor/audit.log \\",
                "      --config /var/lib/tresor/tresor.yaml",
        })
final class AuditVerifyCommand implements java.util.concurrent.Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Parameters(arity = "1..*", paramLabel = "DIR|FILE", description = "The audit log, its segments, or their folder.")
    private java.util.List<Path> logFiles;

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
        for (Path logFile : logFiles) {
            if (!Files.isRegularFile(logFile) && !Files.isDirectory(logFile)) {
                throw CliException.usage(logFile + (Files.exists(logFile) ? " is not a regular file or a folder"
                        : " does not exist"));
            }
        }
        KeyProvider kek = kek();
        java.util.List<AuditVerifier.NodeChain> chains = AuditVerifier.verifyChains(logFiles, kek);
        if (chains.size() > 1) {
            // The logs of several server nodes: one line per node's chain, exit 1 if any is broken.
            boolean allOk = true;
            for (AuditVerifier.NodeChain c : chains) {
                VerificationResult r = c.result();
                allOk &= r.ok();
                context.out().println((r.ok() ? "OK: node " : "BROKEN: node ") + c.node() + " (" + c.files().size()
                        + " file(s)): " + (r.ok() ? r.records() + " records, hash chain intact"
                        + (r.firstSeq() > 1 ? " from seq " + r.firstSeq() : "")
                        : r.problem() + " (" + r.records() + " records verified before it)"));
            }
            return allOk ? ExitCodes.OK : ExitCodes.ERROR;
        }
        VerificationResult result = chains.getFirst().result();
        String logFile = logFiles.size() == 1 ? logFiles.getFirst().toString() : logFiles.size() + " paths";
        if (result.ok()) {
            String segments = result.segments() > 1 ? " in " + result.segments() + " segments" : "";
            String from = result.firstSeq() > 1 ? " from seq " + result.firstSeq()
                    + " (the segments before it were not given: archived or deleted)" : "";
            context.out().println("OK: " + logFile + ": " + result.records() + " records" + segments + from
                    + ", hash chain intact; "
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

    private KeyProvider kek() {
        if (keySource != null && keySource.keyFile != null) {
            return loadKek(keySource.keyFile);
        }
        if (keySource != null && keySource.config != null) {
            try {
                // The server's own provider: the key file, or the HSM token (PIN from its file or variable).
                return ConfigLoader.load(keySource.config).openKeyProvider(System.getenv());
            } catch (ConfigException | IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
                throw CliException.usage("--config " + keySource.config + ": " + e.getMessage());
            }
        }
        Path first = logFiles.getFirst().toAbsolutePath();
        Path beside = Files.isDirectory(first) ? first.resolve("kek.json") : first.resolveSibling("kek.json");
        if (Files.isRegularFile(beside)) {
            return loadKek(beside);
        }
        throw CliException.usage("no KEK to check the chain with: pass --key KEKFILE or --config SERVERCONFIG"
                + " (there is no kek.json beside " + logFiles.getFirst() + ")");
    }

    private static KeyProvider loadKek(Path file) {
        try {
            if (Files.isRegularFile(file) && LocalKeyProvider.isSealed(file)) {
                throw CliException.usage("key file " + file + " is sealed by a passphrase; pass --config SERVERCONFIG "
                        + "instead (its keyProvider block says where the passphrase is read from)");
            }
            return LocalKeyProvider.load(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw CliException.usage(e.getMessage());
        }
    }
}
