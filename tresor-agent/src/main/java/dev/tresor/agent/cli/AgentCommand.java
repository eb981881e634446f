package dev.tresor.agent.cli;

import dev.tresor.agent.Agent;
import dev.tresor.agent.config.AgentConfig;
import dev.tresor.agent.config.ConfigLoader;
import dev.tresor.agent.config.Output;
import dev.tresor.agent.feed.Identity;
import dev.tresor.agent.feed.TresorFeedClient;
import dev.tresor.agent.identity.DirectoryIdentity;
import dev.tresor.agent.identity.FileIdentity;
import dev.tresor.agent.reload.ExecSupervisor;
import dev.tresor.agent.reload.ReloadAction;
import dev.tresor.agent.render.AtomicWriter;
import dev.tresor.agent.render.Destination;
import dev.tresor.agent.render.WriteHook;
import dev.tresor.agent.status.StatusReporter;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.random.RandomGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tresor agent --config agent.yaml [--once] [--allow-disk] [-- app args...]}. */
@Command(name = "agent",
        description = {
                "Render the secrets this client may read into a memory-backed folder (raw files and Pebble templates, "
                        + "each replaced atomically with its own mode and owner), follow the server's change feed, and "
                        + "reload the app when a file changed: a command, a signal, or (after --) the app itself run as "
                        + "a child with secrets in its environment. See docs/delivery.md, \"tresor agent\".",
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:rendered (--once) or stopped by SIGTERM/SIGINT",
                "1:some secret could not be read (--once)",
                "2:bad command line or config, or a disk-backed destination",
                "75:the server stayed unreachable (--once)",
                "N:exec mode: the app's own exit code",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor agent --config agent.yaml",
                "  tresor agent --config agent.yaml --once      # init container",
                "  tresor agent --config agent.yaml -- php-fpm -F   # exec mode",
        })
public final class AgentCommand implements Callable<Integer> {

    public static final int USAGE = 2;
    /** Set only by the crash test: park the first write half-way so the process can be SIGKILLed mid-render. */
    static final String PAUSE_PROPERTY = "tresor.agent.test.pauseMidWrite";

    @Mixin
    private HelpOption help;

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "agent.yaml (see docs/delivery.md)")
    private Path config;

    @Option(names = "--once", description = "render every file once and exit (for an init container)")
    private boolean once;

    @Option(names = "--allow-disk", description = "allow a destination that is not tmpfs/ramfs (the secrets then reach a disk)")
    private boolean allowDisk;

    @Parameters(paramLabel = "APP", arity = "0..*", description = "after --: the application to run as a child (exec mode)")
    private List<String> app = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        AgentConfig agentConfig;
        Destination destination;
        try {
            agentConfig = ConfigLoader.load(config);
            if (once && !app.isEmpty()) {
                throw new IllegalArgumentException("--once renders and exits; it cannot also run " + app.getFirst());
            }
            if (app.isEmpty()) {
                for (Output output : agentConfig.outputs()) {
                    if (output.options().env() != null) {
                        throw new IllegalArgumentException(output.options().label() + ": env variables need exec mode "
                                + "(tresor agent --config F -- APP ARGS...)");
                    }
                }
            }
            destination = Destination.open(agentConfig.destination(), allowDisk);
        } catch (IllegalArgumentException e) {
            err.println("tresor: " + e.getMessage());
            err.flush();
            return USAGE;
        }
        Identity identity;
        URI server;
        try {
            if (agentConfig.credentials() instanceof AgentConfig.Directory d) {
                DirectoryIdentity directory = new DirectoryIdentity(d.dir(), agentConfig.server(), agentConfig.failover(),
                        d.renew() && !once);
                identity = directory;
                server = directory.server();
            } else {
                AgentConfig.Files f = (AgentConfig.Files) agentConfig.credentials();
                identity = new FileIdentity(f.cert(), f.key(), f.ca());
                server = agentConfig.server();
            }
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("tresor: " + config + ": credentials: " + e.getMessage());
            err.flush();
            return USAGE;
        }
        String pause = System.getProperty(PAUSE_PROPERTY);
        WriteHook hook = pause == null ? WriteHook.NONE : WriteHook.pauseOnce(Path.of(pause));
        ExecSupervisor exec = app.isEmpty() ? null : new ExecSupervisor(app, agentConfig.exec());
        try (identity;
             StatusReporter status = new StatusReporter(agentConfig.status());
             Agent agent = new Agent(agentConfig, new AtomicWriter(destination, hook),
                     new TresorFeedClient(nodes(server, agentConfig), identity, agentConfig.requestTimeout()),
                     agentConfig.reload() == null ? null : new ReloadAction(agentConfig.reload()), exec, status,
                     Clock.systemUTC(), RandomGenerator.of("L64X128MixRandom"), identity)) {
            if (once) {
                return agent.once();
            }
            ProcessSignals.onTermination(signal -> {
                if (exec != null) {
                    exec.forward(signal);
                } else {
                    agent.stop();
                }
            });
            if (exec == null) {
                agent.run();
                return 0;
            }
            Thread loop = Thread.ofPlatform().name("agent").daemon().start(agent::run);
            int code = exec.awaitExit();
            agent.stop();
            loop.join(10_000);
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (exec != null) {
                exec.kill();
            }
            return 1;
        }
    }

    /** The configured (or recorded) server first, then the config's failover nodes. */
    public static dev.tresor.client.api.ServerAddresses nodes(URI server, AgentConfig config) {
        return dev.tresor.client.api.ServerAddresses.of(server, config.failover());
    }
}
