package dev.tresor.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.RotationEngine;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.StepHook;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Preflight, changing nothing: Tresor reachable, both secrets readable and writable by this identity, "
                + "an admin password that logs in, both slot users with their role, every consumer usable. Exits 1 if a check fails.",
        footerHeading = "%nExamples:%n",
        footer = "  tresor rotate verify --config openemr.yaml")
final class RotateVerifyCommand extends ApiCommand {

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The rotation definition (YAML).")
    private Path config;

    @Option(names = "--json", description = "Print the checks as JSON.")
    private boolean json;

    RotateVerifyCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        List<RotationEngine.Check> checks;
        try (RotationJob job = new RotationJob(RotationCommandSupport.load(config), RotationCommandSupport.connection(context),
                RotationListener.SILENT, StepHook.NONE)) {
            checks = job.engine().verify();
        } catch (RotationException e) {
            throw new CliException(RotationCommandSupport.exitCode(e.kind().name()), e.getMessage());
        }
        print(context, checks, json);
        return checks.stream().allMatch(RotationEngine.Check::ok) ? ExitCodes.OK : ExitCodes.ERROR;
    }

    static void print(CliContext context, List<RotationEngine.Check> checks, boolean json) {
        if (json) {
            ObjectNode root = Json.object();
            ArrayNode list = root.putArray("checks");
            for (RotationEngine.Check c : checks) {
                list.addObject().put("name", c.name()).put("ok", c.ok()).put("detail", c.detail());
            }
            context.out().println(Json.pretty(root));
            return;
        }
        int width = checks.stream().mapToInt(c -> c.name().length()).max().orElse(10);
        for (RotationEngine.Check c : checks) {
            context.out().println(String.format("%-4s %-" + width + "s  %s", c.ok() ? "ok" : "FAIL", c.name(), c.detail()));
        }
    }
}
