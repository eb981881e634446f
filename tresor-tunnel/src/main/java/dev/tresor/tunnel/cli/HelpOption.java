package dev.tresor.tunnel.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help} for the tunnel commands; only the top {@code tresor} command has {@code -V/--version}. */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean requested;
}
