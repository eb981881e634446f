package dev.tresor.agent.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help}; only the top {@code tresor} command has {@code -V/--version}. */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean requested;
}
