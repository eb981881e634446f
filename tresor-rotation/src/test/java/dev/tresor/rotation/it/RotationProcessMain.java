package dev.tresor.rotation.it;

import dev.tresor.rotation.CrashHook;
import dev.tresor.rotation.RotationJob;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.StepResult;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.rotation.config.RotationConfigLoader;
import java.net.URI;
import java.nio.file.Path;

/**
 * A rotation run as its own process, for the fault matrix: the same wiring as {@code tresor rotate
 * run} (RotationJob, CrashHook from the environment). Args: config, address, cert, key, ca.
 */
public final class RotationProcessMain {

    private RotationProcessMain() {}

    public static void main(String[] args) {
        TresorConnection tresor = new TresorConnection(URI.create(args[1]), Path.of(args[2]), Path.of(args[3]), Path.of(args[4]));
        RotationListener printer = new RotationListener() {
            @Override
            public void step(StepResult result) {
                System.out.println(result.line());
                System.out.flush();
            }

            @Override
            public void warning(String message) {
                System.out.println("warning: " + message);
            }
        };
        RotationReport report;
        try (RotationJob job = new RotationJob(RotationConfigLoader.load(Path.of(args[0])), tresor, printer,
                CrashHook.fromEnvironment(System.getenv()))) {
            report = job.engine().run(new RunOptions(false, false));
        }
        if (!report.ok()) {
            System.out.println("error: " + report.error());
        }
        System.exit(report.ok() ? 0 : 1);
    }
}
