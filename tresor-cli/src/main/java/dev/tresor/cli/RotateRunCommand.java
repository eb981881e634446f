package dev.tresor.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.CrashHook;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.StepResult;
import dev.tresor.rotation.config.RotationConfig;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", description = {
                "Rotate once: the standby slot gets a new password, is delivered and validated, becomes active; then the old "
                        + "slot and the admin get new passwords. A failed validation rolls every consumer back and exits 1.",
                "Each step prints one line with its duration. A rerun after any crash reads reality and carries on.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor rotate run --config openemr.yaml --dry-run  # plan only",
                "  tresor rotate run --config openemr.yaml",
                "  tresor rotate run --config openemr.yaml --json",
                "  # recovery: the active slot's password was changed by hand",
                "  tresor rotate run --config openemr.yaml --sync-db-users",
        })
final class RotateRunCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The rotation definition (YAML).")
    private Path config;

    @Option(names = "--dry-run", description = "Read and probe, print the plan, change nothing.")
    private boolean dryRun;

    @Option(names = "--sync-db-users", description = "Recovery: if the active slot's stored password no longer logs in, "
            + "set it on the database and redeliver it instead of stopping.")
    private boolean syncDbUsers;

    @Mixin
    private OutputOption output;

    RotateRunCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        RotationConfig definition = RotationCommandSupport.load(config);
        RotationListener listener = new RotationListener() {
            @Override
            public void step(StepResult result) {
                if (!output.structured()) {
                    out().println(result.line());
                    out().flush();
                }
            }

            @Override
            public void warning(String message) {
                context.err().println("tresor: warning: " + message);
            }
        };
        RotationReport report;
        try (RotationJob job = new RotationJob(definition, RotationCommandSupport.connection(context), listener,
                CrashHook.fromEnvironment(context.env()))) {
            report = job.engine().run(new RunOptions(dryRun, syncDbUsers));
        } catch (RotationException e) {
            throw new CliException(RotationCommandSupport.exitCode(e.kind().name()), e.getMessage());
        }
        if (output.structured()) {
            output.print(out(), toJson(report));
        } else if (report.ok()) {
            out().println((dryRun ? "dry run of " : "rotation ") + report.rotation() + " done in " + report.total().toMillis()
                    + " ms: slot " + report.activeAfter() + " active" + (report.healed().isEmpty() ? ""
                    : "; healed: " + String.join("; ", report.healed())));
        }
        if (!report.ok()) {
            context.err().println("tresor: rotation " + report.rotation() + " failed: " + report.error());
        }
        return RotationCommandSupport.exitCode(report.errorKind());
    }

    static ObjectNode toJson(RotationReport report) {
        ObjectNode root = Json.object();
        root.put("rotation", report.rotation());
        root.put("ok", report.ok());
        root.put("dryRun", report.dryRun());
        root.put("activeBefore", report.activeBefore() == null ? null : report.activeBefore().name());
        root.put("activeAfter", report.activeAfter() == null ? null : report.activeAfter().name());
        root.put("totalMillis", report.total().toMillis());
        ArrayNode steps = root.putArray("steps");
        for (StepResult r : report.steps()) {
            ObjectNode s = steps.addObject();
            s.put("step", r.step().wireName());
            s.put("outcome", r.outcome().name().toLowerCase(java.util.Locale.ROOT));
            s.put("millis", r.duration().toMillis());
            s.put("detail", r.detail());
        }
        ArrayNode healed = root.putArray("healed");
        report.healed().forEach(healed::add);
        root.put("error", report.error());
        root.put("errorKind", report.errorKind());
        return root;
    }
}
