package dev.tresor.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.RotationEngine;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.StepHook;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.RotationConfigLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * What the rotate commands share: loading the definition, the job's Tresor connection, exit codes,
 * and the read-only inspections (verify, status) that differ only in which list of checks they ask for.
 */
final class RotationCommandSupport {

    private RotationCommandSupport() {}

    static RotationConfig load(Path config) {
        try {
            return RotationConfigLoader.load(config);
        } catch (RotationException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** The rotation job talks to Tresor as the CLI's identity (flags, TRESOR_* or the profile). */
    static TresorConnection connection(CliContext context) {
        ConnectionSettings s = new ConnectionResolver(context).resolve();
        return new TresorConnection(new dev.tresor.client.api.ServerAddresses(s.addresses()), s.cert().value(), s.key().value(),
                s.ca().value());
    }

    /**
     * Runs one read-only inspection of the rotation as the CLI's identity: no step hook and a
     * silent listener, since nothing is changed and only the returned checks are printed.
     */
    static List<RotationEngine.Check> inspect(CliContext context, Path config,
            Function<RotationEngine, List<RotationEngine.Check>> inspection) {
        try (RotationJob job = new RotationJob(load(config), connection(context), RotationListener.SILENT, StepHook.NONE)) {
            return inspection.apply(job.engine());
        } catch (RotationException e) {
            throw new CliException(exitCode(e.kind().name()), e.getMessage());
        }
    }

    /** One aligned line per check ({@code ok}/{@code FAIL}, name, detail), or {@code {"checks": [...]}}. */
    static void print(CliContext context, List<RotationEngine.Check> checks, OutputOption output) {
        if (output.structured()) {
            ObjectNode root = Json.object();
            ArrayNode list = root.putArray("checks");
            for (RotationEngine.Check c : checks) {
                list.addObject().put("name", c.name()).put("ok", c.ok()).put("detail", c.detail());
            }
            output.print(context.out(), root);
            return;
        }
        int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(10);
        for (RotationEngine.Check c : checks) {
            context.out().println(String.format("%-4s %-" + width + "s  %s", c.ok() ? "ok" : "FAIL", c.name(), c.detail()));
        }
    }

    static int exitCode(String kind) {
        if (kind == null) {
            return ExitCodes.OK;
        }
        return switch (RotationException.Kind.valueOf(kind)) {
            case CONFIG -> ExitCodes.USAGE;
            case DENIED -> ExitCodes.DENIED;
            case UNAVAILABLE -> ExitCodes.UNAVAILABLE;
            case STATE, BUSY, ROLLED_BACK, FAILED -> ExitCodes.ERROR;
        };
    }
}
