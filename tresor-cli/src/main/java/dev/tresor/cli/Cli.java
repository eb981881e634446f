package dev.tresor.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Builds and runs the command tree for one invocation. Errors are printed as one line on stderr
 * with a meaningful exit code; a stack trace appears only with {@code TRESOR_DEBUG=1}.
 */
final class Cli {

    private Cli() {}

    static int run(CliContext context, String... args) {
        return commandLine(context, args).execute(args);
    }

    /** The full command tree (help, completion, tests). */
    static CommandLine commandLine(CliContext context) {
        return commandLine(context, new String[0]);
    }

    /** The command tree as far as {@code args} need it (see {@link CommandTree}). */
    static CommandLine commandLine(CliContext context, String... args) {
        CommandFactory factory = new CommandFactory(context);
        CommandLine commandLine = new CommandLine(TresorCommand.class, factory);
        CommandTree.addSubcommands(commandLine, factory, args);
        commandLine.setOut(writer(context.out()));
        commandLine.setErr(writer(context.err()));
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(executionFailures(context));
        commandLine.setParameterExceptionHandler(usageFailures(context));
        UsageMessageSpec usage = commandLine.getCommandSpec().usageMessage();
        List<String> footer = new ArrayList<>(List.of(usage.footer()));
        footer.addAll(ExitCodes.HELP_LINES);
        usage.footer(footer.toArray(String[]::new));
        return commandLine;
    }

    private static PrintWriter writer(PrintStream stream) {
        return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
    }

    private static IParameterExceptionHandler usageFailures(CliContext context) {
        return (failure, args) -> {
            PrintStream err = context.err();
            CommandLine command = failure.getCommandLine();
            err.println("tresor: " + failure.getMessage());
            PrintWriter suggestions = writer(err);
            UnmatchedArgumentException.printSuggestions(failure, suggestions);
            suggestions.flush();
            err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitCodes.USAGE;
        };
    }

    private static IExecutionExceptionHandler executionFailures(CliContext context) {
        return (failure, command, parseResult) -> {
            PrintStream err = context.err();
            context.out().flush();
            if (failure instanceof CliException known) {
                err.println("tresor: " + known.getMessage());
                return known.exitCode();
            }
            if (failure instanceof ParameterException usage) {
                err.println("tresor: " + usage.getMessage());
                err.println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
                return ExitCodes.USAGE;
            }
            // Not anticipated: say what happened in one line; the trace is for whoever debugs it.
            err.println("tresor: unexpected error: " + describe(failure));
            if (context.envOrNull("TRESOR_DEBUG") != null) {
                failure.printStackTrace(err);
            } else {
                err.println("(run with TRESOR_DEBUG=1 for details)");
            }
            return ExitCodes.ERROR;
        };
    }

    static String describe(Throwable failure) {
        String message = failure.getMessage();
        return message == null || message.isBlank() ? failure.getClass().getSimpleName() : message;
    }
}
