package dev.tresor.cli;

import dev.tresor.server.bootstrap.CaRotation;
import dev.tresor.server.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rotate", description = {
                "Make a new CA key and certificate (same trust domain), with the server stopped. The old CA stays",
                "trusted and in GET /v1/ca/bundle until the overlap ends (default: ca.maxTtl + 5m, when every",
                "certificate it issued has expired); new certificates are issued by the new CA. Start the server",
                "again afterwards. See docs/operations.md, CA rollover.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor ca rotate --config /var/lib/tresor/tresor.yaml",
                "  tresor ca rotate --config ~/.tresor/dev/tresor.yaml --overlap 48h",
        })
final class CaRotateCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The server's tresor.yaml.")
    private Path config;

    @Option(names = "--overlap", paramLabel = "DURATION",
            description = "How long the old CA stays trusted (default: ca.maxTtl plus 5 minutes).")
    private String overlap;

    CaRotateCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        Duration keep = null;
        if (overlap != null) {
            try {
                keep = dev.tresor.model.Durations.parse("--overlap", overlap);
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        CaRotation.Result result;
        try {
            result = CaRotation.rotate(config, keep, context.clock());
        } catch (ConfigException e) {
            throw CliException.usage(e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            throw CliException.error(e.getMessage());
        }
        context.out().println("new CA serial " + result.newCa().getSerialNumber().toString(16) + "; retired CA serial "
                + result.retiredCa().getSerialNumber().toString(16) + " trusted until " + result.trustUntil());
        context.err().println("kept " + result.retiredCertificate() + " (listed under ca.previous); restart the server,"
                + " then have workloads fetch the bundle again (GET /v1/ca/bundle)");
        return ExitCodes.OK;
    }
}
