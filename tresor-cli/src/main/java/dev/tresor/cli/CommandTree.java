package dev.tresor.cli;

import dev.tresor.agent.cli.AgentCommand;
import dev.tresor.mesh.MeshCommand;
import dev.tresor.tunnel.cli.TunnelCommand;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command hierarchy, built lazily. Picocli reflects over every command class it is given,
 * and its classes are too old for the JVM's AOT cache, so modelling all ~35 commands costs a
 * quarter of a second at every start. A run only needs the path it executes: when the arguments
 * name a command, only that branch is built; help, completion and unknown commands get the
 * whole tree, so their output is complete.
 */
final class CommandTree {

    /** One command class and, for groups, its subcommands. */
    record Node(Class<?> type, List<Node> children) {

        static Node leaf(Class<?> type) {
            return new Node(type, List.of());
        }

        static Node group(Class<?> type, Node... children) {
            return new Node(type, List.of(children));
        }

        boolean answersTo(String word) {
            Command command = type.getAnnotation(Command.class);
            return command.name().equals(word) || List.of(command.aliases()).contains(word);
        }
    }

    static final List<Node> TOP_LEVEL = List.of(
            Node.leaf(DevCommand.class),
            Node.leaf(InitCommand.class),
            Node.group(ServerCommand.class,
                    Node.group(ServerCertCommand.class, Node.leaf(ServerCertRenewCommand.class))),
            Node.group(SecretCommand.class,
                    Node.leaf(SecretPutCommand.class),
                    Node.leaf(SecretGetCommand.class),
                    Node.leaf(SecretListCommand.class),
                    Node.leaf(SecretVersionsCommand.class),
                    Node.leaf(SecretRemoveCommand.class),
                    Node.leaf(SecretRestoreCommand.class)),
            Node.group(GroupCommand.class,
                    Node.leaf(GroupCreateCommand.class),
                    Node.leaf(GroupListCommand.class),
                    Node.leaf(GroupShowCommand.class),
                    Node.leaf(GroupRemoveCommand.class)),
            Node.group(ClientCommand.class,
                    Node.leaf(ClientCreateCommand.class),
                    Node.leaf(ClientListCommand.class),
                    Node.leaf(ClientShowCommand.class),
                    Node.leaf(ClientRemoveCommand.class)),
            Node.group(TokenCommand.class,
                    Node.leaf(TokenCreateCommand.class)),
            Node.group(CertCommand.class,
                    Node.leaf(CertJoinCommand.class),
                    Node.leaf(CertRenewCommand.class),
                    Node.leaf(CertRevokeCommand.class),
                    Node.leaf(CertListCommand.class)),
            Node.group(CaCommand.class,
                    Node.leaf(CaRotateCommand.class)),
            Node.group(KeyCommand.class,
                    Node.leaf(KeyAdoptCommand.class),
                    Node.leaf(KeyInitCommand.class),
                    Node.leaf(KeyMigrateCommand.class),
                    Node.leaf(KeyPassphraseCommand.class),
                    Node.leaf(KeyRotateCommand.class),
                    Node.leaf(KeyStatusCommand.class)),
            Node.leaf(GrantCommand.class),
            Node.leaf(RevokeCommand.class),
            Node.group(AuditCommand.class,
                    Node.leaf(AuditTailCommand.class),
                    Node.leaf(AuditVerifyCommand.class)),
            Node.group(RotateCommand.class,
                    Node.leaf(RotateRunCommand.class),
                    Node.leaf(RotateVerifyCommand.class),
                    Node.leaf(RotateStatusCommand.class)),
            // tresor-mesh declares its own subcommands (render, check), so it is one leaf here.
            Node.leaf(MeshCommand.class),
            // tresor-agent: one command, no subcommands (exec mode's app arguments follow "--").
            Node.leaf(AgentCommand.class),
            // tresor-tunnel declares its own subcommands (server, client), so it is one leaf here.
            Node.leaf(TunnelCommand.class),
            Node.leaf(MountCommand.class),
            Node.leaf(UiCommand.class),
            Node.leaf(WhoamiCommand.class),
            Node.leaf(CompletionCommand.class),
            Node.leaf(AotTrainingCommand.class));

    /** Options of the top command and groups that take a value (so their value is not mistaken for a command). */
    private static final List<String> VALUE_OPTIONS = List.of("--addr", "--cert", "--key", "--ca", "--profile", "--config");

    private CommandTree() {}

    /** Adds to {@code root} the subcommands {@code args} can reach; everything if they name none, or name completion. */
    static void addSubcommands(CommandLine root, CommandLine.IFactory factory, String... args) {
        int[] position = {0};
        Node chosen = next(TOP_LEVEL, args, position);
        if (chosen == null || chosen.type() == CompletionCommand.class) {
            addAll(root, TOP_LEVEL, factory);
            return;
        }
        CommandLine command = new CommandLine(chosen.type(), factory);
        Node child = next(chosen.children(), args, position);
        addAll(command, child == null ? chosen.children() : List.of(child), factory);
        root.addSubcommand(command);
    }

    private static void addAll(CommandLine parent, List<Node> nodes, CommandLine.IFactory factory) {
        for (Node node : nodes) {
            CommandLine command = new CommandLine(node.type(), factory);
            addAll(command, node.children(), factory);
            parent.addSubcommand(command);
        }
    }

    /** The node named by the next word of {@code args} that is neither an option nor an option's value. */
    private static Node next(List<Node> candidates, String[] args, int[] position) {
        while (position[0] < args.length) {
            String word = args[position[0]++];
            if (word.equals("--")) {
                return null;
            }
            if (VALUE_OPTIONS.contains(word)) {
                position[0]++;
                continue;
            }
            if (word.startsWith("-")) {
                continue;
            }
            for (Node candidate : candidates) {
                if (candidate.answersTo(word)) {
                    return candidate;
                }
            }
            return null;
        }
        return null;
    }
}
