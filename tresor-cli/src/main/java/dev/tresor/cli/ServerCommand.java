package dev.tresor.cli;

import dev.tresor.server.TresorServer;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run the Tresor server from a config file (made by `tresor init`) until SIGINT/SIGTERM.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor server --config /var/lib/tresor/tresor.yaml",
        })
final class ServerCommand implements Callable<Integer> {

    private final CliContext context;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The server config (tresor.yaml).")
    private Path config;

    ServerCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
        ServerSettings settings;
        try {
            settings = ConfigLoader.load(config);
        } catch (ConfigException e) {
            // Messages about the file itself already name it; the others name a field inside it.
            String message = e.getMessage();
            throw CliException.error(message.startsWith("config file") ? message : "bad config " + config + ": " + message);
        }
        TresorServer server = ServerLifecycle.start(settings, config.toString());
        context.out().println("Tresor is running: API https://" + settings.apiAddress().getHostString() + ":" + server.apiPort()
                + " (mutual TLS), management http://" + settings.managementAddress().getHostString() + ":"
                + server.managementPort() + ". Ctrl-C or SIGTERM stops it.");
        ServerLifecycle.runUntilStopped(server, context.err());
        return ExitCodes.OK;
    }
}
