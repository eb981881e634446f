package dev.tresor.cli;

import dev.tresor.server.bootstrap.CaRotation;
import dev.tresor.server.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rotate", description = {
                "Make a new CA key and certificate (same trust domain). The old CA stays trusted and in",
                "GET /v1/ca/bundle until the overlap ends (default: ca.maxTtl + 5m, when every certificate it",
                "issued has expired); new certificates are issued by the new CA. With --config the server is",
                "stopped (start it again afterwards); with --online the server that answers does it while it",
                "runs (admins; audited as ca.rollover). See docs/operations.md, CA rollover.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor ca rotate --config /var/lib/tresor/tresor.yaml",
                "  tresor ca rotate --config ~/.tresor/dev/tresor.yaml --overlap 48h",
                "  tresor ca rotate --online --overlap 25h",
        })
final class CaRotateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    private Where where;

    static final class Where {
        @Option(names = "--config", paramLabel = "FILE", description = "The stopped server's tresor.yaml.")
        Path config;

        @Option(names = "--online", description = "Ask the running server (TRESOR_* settings) to roll over.")
        boolean online;
    }

    @Option(names = "--overlap", paramLabel = "DURATION",
            description = "How long the old CA stays trusted (default: ca.maxTtl plus 5 minutes).")
    private String overlap;

    CaRotateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        Duration keep = null;
        if (overlap != null) {
            try {
                keep = dev.tresor.model.Durations.parse("--overlap", overlap);
            } catch (IllegalArgumentException e) {
                throw CliException.usage(e.getMessage());
            }
        }
        if (where.online) {
            com.fasterxml.jackson.databind.node.ObjectNode body = Json.object();
            if (overlap != null) {
                body.put("overlap", overlap);
            }
            com.fasterxml.jackson.databind.JsonNode reply = connect().call("POST", "ca/rotate", java.util.Map.of(), body);
            if (output.structured()) {
                output.print(out(), reply);
                return ExitCodes.OK;
            }
            out().println("new CA serial " + Json.text(reply, "active", "?") + "; retired CA serial "
                    + Json.text(reply, "retired", "?") + " trusted until " + Json.text(reply, "trustUntil", "?"));
            context.err().println("the server issues with the new CA now; have workloads fetch the bundle again "
                    + "(GET /v1/ca/bundle). Other nodes need the new CA files and a restart.");
            return ExitCodes.OK;
        }
        CaRotation.Result result;
        try {
            result = CaRotation.rotate(where.config, keep, context.clock());
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
