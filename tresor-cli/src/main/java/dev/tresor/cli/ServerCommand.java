package dev.tresor.cli;

import dev.tresor.server.TresorServer;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.StepHook;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.rotation.schedule.RotationScheduler;
import dev.tresor.rotation.schedule.SchedulerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "server", description = "Run the Tresor server from a config file (made by `tresor init`) until SIGINT/SIGTERM.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor server --config /var/lib/tresor/tresor.yaml",
                "  tresor server --config tresor.yaml --rotations rotations.yaml",
                "  tresor server cert renew --dir /var/lib/tresor",
        })
final class ServerCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    // Not required by picocli: `tresor server cert renew` passes through this command without it.
    @Option(names = "--config", paramLabel = "FILE", description = "The server config (tresor.yaml); required to run the server.")
    private Path config;

    @Option(names = "--rotations", paramLabel = "FILE", description = "Also run these rotation definitions on their "
            + "schedules (one node at a time per rotation, by its database lock); see docs/rotation.md.")
    private Path rotations;

    @Option(names = "--accept-rollback", paramLabel = "REASON", description = "Start although the audit log and the "
            + "store disagree (a log cut or put back, a database restored from an older backup), after you checked why; "
            + "the reason is recorded in the audit log. See docs/operations.md, start-up refusals.")
    private String acceptRollback;

    ServerCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (config == null) {
            throw CliException.usage("tresor server needs --config FILE (the tresor.yaml of tresor init), e.g. "
                    + "tresor server --config /var/lib/tresor/tresor.yaml");
        }
        ServerSettings settings;
        try {
            settings = ConfigLoader.load(config);
        } catch (ConfigException e) {
            // Messages about the file itself already name it; the others name a field inside it.
            String message = e.getMessage();
            throw CliException.error(message.startsWith("config file") ? message : "bad config " + config + ": " + message);
        }
        SchedulerConfig schedule = null;
        if (rotations != null) {
            try {
                schedule = SchedulerConfig.load(rotations);
            } catch (RotationException e) {
                throw CliException.usage("--rotations " + rotations + ": " + e.getMessage());
            }
        }
        if (acceptRollback != null) {
            if (acceptRollback.isBlank()) {
                throw CliException.usage("--accept-rollback needs a reason, e.g. --accept-rollback \"restored backup of 2026-12-01 after disk loss\"");
            }
            settings = settings.withAcceptRollback(acceptRollback);
        }
        TresorServer server = ServerLifecycle.start(settings, config.toString());
        if (schedule != null) {
            startScheduler(schedule, server);
        }
        context.out().println("Tresor is running: API https://" + settings.apiAddress().getHostString() + ":" + server.apiPort()
                + " (mutual TLS), management http://" + settings.managementAddress().getHostString() + ":"
                + server.managementPort() + ". Ctrl-C or SIGTERM stops it.");
        ServerLifecycle.runUntilStopped(server, context.err());
        return ExitCodes.OK;
    }

    /** Runs each definition on its schedule against this server, as the scheduler's own client identity. */
    private void startScheduler(SchedulerConfig schedule, TresorServer server) {
        TresorConnection tresor = new TresorConnection(schedule.address() != null ? schedule.address()
                : URI.create("https://localhost:" + server.apiPort()), schedule.cert(), schedule.key(), schedule.ca());
        RotationScheduler scheduler = new RotationScheduler(schedule.definitions(), definition -> {
            try (RotationJob job = new RotationJob(definition, tresor, RotationListener.SILENT, StepHook.NONE)) {
                var report = job.engine().run(new RunOptions(false, false));
                server.metrics().rotationRun(report.rotation(), report.ok(), report.total());
                return report;
            }
        }, Clock.systemUTC(), line -> context.err().println("tresor: " + line));
        scheduler.start();
    }
}
