package dev.tresor.cli;

import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.ui.ConsoleException;
import dev.tresor.ui.ConsoleSettings;
import dev.tresor.ui.TresorConsole;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tresor ui}: resolves the connection settings like every API command, builds the TLS
 * context, and hands both to tresor-ui, which knows nothing of flags or profiles. Prints the
 * one-time login URL once and serves in the foreground until SIGTERM/SIGINT.
 */
@Command(name = "ui",
        description = {
                "Start the operator console: a local web server on 127.0.0.1 that acts with your identity "
                        + "(the same TRESOR_* settings and profile as every command; the browser never holds the key). "
                        + "Prints a one-time login URL; open it in a browser on this machine. Secrets (tree, versions, "
                        + "expiry, reveal on click), rotation timeline, access graph, audit with chain status, health. Stays in the foreground; Ctrl-C "
                        + "stops it. See docs/console.md.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor ui",
                "  tresor ui --port 8750 --management http://127.0.0.1:7444",
                "  tresor ui --rotation openemr/db-slots",
                "  tresor ui --audit-log /var/lib/tresor/audit.log \\",
                "      --audit-config /var/lib/tresor/tresor.yaml",
                "  ssh -L 8750:127.0.0.1:8750 ops-host   # reach it from another machine",
        })
final class UiCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8750",
            description = "Port to listen on, 0 for any free one (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--listen", paramLabel = "ADDR", defaultValue = ConsoleSettings.LOOPBACK,
            description = "Address to listen on (default: ${DEFAULT-VALUE}); a non-loopback one needs --allow-remote.")
    private String listen;

    @Option(names = "--allow-remote",
            description = "Accept a non-loopback --listen: anyone who reaches it and gets a session acts as you.")
    private boolean allowRemote;

    @Option(names = "--management", paramLabel = "URL",
            description = "A server's management address (http://HOST:PORT) for the Health page; repeatable.")
    private List<String> management = new ArrayList<>();

    @Option(names = "--rotation", paramLabel = "SLOTSECRET",
            description = "A rotation's slot secret (secrets.slots of its definition) for the Rotation page; repeatable.")
    private List<String> rotations = new ArrayList<>();

    @Option(names = "--audit-log", paramLabel = "FILE|DIR",
            description = "The server's audit log (or its folder), to show the hash chain's status on the Audit page.")
    private Path auditLog;

    @ArgGroup(exclusive = true)
    private AuditKey auditKey;

    static final class AuditKey {
        @Option(names = "--audit-kek", paramLabel = "KEKFILE", description = "The local KEK file for --audit-log "
                + "(default: kek.json beside the log).")
        Path kekFile;

        @Option(names = "--audit-config", paramLabel = "SERVERCONFIG",
                description = "The server config (tresor.yaml) whose keyProvider opens the chain key.")
        Path config;
    }

    UiCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        if (port < 0 || port > 65_535) {
            throw CliException.usage("--port must be between 0 and 65535");
        }
        try {
            TresorConsole.checkListenAddress(listen, allowRemote);
        } catch (ConsoleException e) {
            throw CliException.usage(e.getMessage());
        }
        List<URI> managementAddresses = new ArrayList<>();
        for (String address : management) {
            URI uri = URI.create(address.contains("://") ? address : "http://" + address);
            if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw CliException.usage("--management '" + address + "': use http://HOST:PORT (the plain-HTTP"
                        + " management listener)");
            }
            managementAddresses.add(uri);
        }
        ConnectionSettings connection = new ConnectionResolver(context).resolve();
        ConsoleSettings settings = ConsoleSettings.local(connection.address().value(), TresorClient.tls(connection))
                .withListen(listen, port, allowRemote).withManagement(managementAddresses).withRotations(rotations)
                .withClock(context.clock());
        if (auditLog != null) {
            settings = settings.withAuditLog(auditLog, kek());
        } else if (auditKey != null) {
            throw CliException.usage("--audit-kek/--audit-config need --audit-log");
        }
        TresorConsole console;
        try {
            console = TresorConsole.start(settings);
        } catch (ConsoleException e) {
            throw new CliException(ExitCodes.ERROR, e.getMessage());
        }
        Thread stopper = new Thread(console::close, "tresor-ui-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        try {
            if (!console.loopback()) {
                context.err().println("tresor: WARNING: the console listens on " + console.address() + ", beyond this"
                        + " machine; anyone who reaches it with a session acts as " + connection.cert().value().getFileName());
            }
            context.err().println("tresor: console for " + connection.address().value() + " at " + console.address()
                    + "; Ctrl-C stops it");
            context.err().println("tresor: open this one-time login URL (it works once):");
            context.out().println(console.loginUrl());
            context.out().flush();
            console.awaitClosed();
        } catch (InterruptedException stopped) {
            // An in-process caller stopping the console: a normal end, like Ctrl-C.
            Thread.currentThread().interrupt();
        } finally {
            // Interrupted (an in-process caller stopping it) rather than Ctrl-C: stop here, drop the hook.
            console.close();
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting and runs the hook itself.
            }
        }
        return ExitCodes.OK;
    }

    private KeyProvider kek() {
        if (auditKey != null && auditKey.config != null) {
            try {
                return ConfigLoader.load(auditKey.config).openKeyProvider(context.env());
            } catch (ConfigException | IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
                throw CliException.usage("--audit-config " + auditKey.config + ": " + e.getMessage());
            }
        }
        Path file = auditKey != null && auditKey.kekFile != null ? auditKey.kekFile
                : (Files.isDirectory(auditLog) ? auditLog.resolve("kek.json") : auditLog.toAbsolutePath().resolveSibling("kek.json"));
        if (!Files.isRegularFile(file)) {
            throw CliException.usage("no KEK to check the audit chain with: pass --audit-kek KEKFILE or --audit-config"
                    + " SERVERCONFIG (" + file + " does not exist)");
        }
        try {
            return LocalKeyProvider.load(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            throw CliException.usage(e.getMessage());
        }
    }
}
