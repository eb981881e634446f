package dev.tresor.agent.cli;

import picocli.CommandLine;

/** {@code java -cp … dev.tresor.agent.cli.AgentMain --config F ...}: the agent without the rest of the CLI (tests, small images). */
public final class AgentMain {

    private AgentMain() {}

    public static void main(String[] args) {
        CommandLine line = new CommandLine(new AgentCommand());
        line.setExecutionExceptionHandler((e, command, parsed) -> {
            command.getErr().println("tresor: " + e.getMessage());
            return 1;
        });
        System.exit(line.execute(args));
    }
}
