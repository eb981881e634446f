package dev.tresor.tunnel.cli;

import picocli.CommandLine;

/** {@code java -cp … dev.tresor.tunnel.cli.TunnelMain server|client|--config F}: the tunnel without the rest of the CLI. */
public final class TunnelMain {

    private TunnelMain() {}

    public static void main(String[] args) {
        CommandLine line = new CommandLine(new TunnelCommand());
        line.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("tresor: " + e.getMessage());
            return TunnelProcess.ERROR;
        });
        System.exit(line.execute(args));
    }
}
