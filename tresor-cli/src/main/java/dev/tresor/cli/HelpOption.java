package dev.tresor.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h/--help} for every subcommand. Only the top command has {@code -V/--version}: on a
 * subcommand it would mean the program's version to some and a secret's version to others.
 */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean requested;
}
