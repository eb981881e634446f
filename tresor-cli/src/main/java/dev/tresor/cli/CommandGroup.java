package dev.tresor.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code tresor secret}): run alone, it shows its usage and exits 2. */
abstract class CommandGroup implements Callable<Integer> {

    private final CliContext context;

    /** So that {@code tresor secret --addr X get NAME} works as well. */
    @Mixin
    private ConnectionOptions connection;

    @Spec
    private CommandSpec spec;

    CommandGroup(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        context.err().println("tresor: " + spec.qualifiedName() + " needs a subcommand");
        spec.commandLine().usage(context.err());
        return ExitCodes.USAGE;
    }
}
