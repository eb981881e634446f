package dev.tresor.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "completion", description = "Print a bash (and zsh, via bashcompinit) completion script for tresor.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  source <(tresor completion)                          # this shell",
                "  tresor completion > /etc/bash_completion.d/tresor    # every new shell",
        })
final class CompletionCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Spec
    private CommandSpec spec;

    CompletionCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        context.out().print(AutoComplete.bash("tresor", spec.root().commandLine()));
        context.out().flush();
        return ExitCodes.OK;
    }
}
