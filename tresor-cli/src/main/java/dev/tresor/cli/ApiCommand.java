package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Mixin;

/**
 * A command that talks to the API with the resolved connection settings. The HTTP client it
 * opens is closed when the command ends: an open client keeps a selector thread waiting in
 * native code, and the JVM's exit waits up to 300 ms for such threads.
 */
abstract class ApiCommand implements Callable<Integer> {

    protected final CliContext context;

    @Mixin
    private ConnectionOptions connection;

    ApiCommand(CliContext context) {
        this.context = context;
    }

    private final List<TresorClient> opened = new ArrayList<>();

    /** Resolves the settings (flags, env, profile) and loads the TLS material; fails with exit 2 naming what is missing. */
    protected TresorClient connect() {
        TresorClient client = TresorClient.open(new ConnectionResolver(context).resolve(), context.clock());
        opened.add(client);
        return client;
    }

    /** The command's work; {@link #call()} wraps it to close the connection afterwards. */
    protected abstract Integer run() throws Exception;

    @Override
    public final Integer call() throws Exception {
        try {
            return run();
        } finally {
            opened.forEach(TresorClient::close);
            opened.clear();
        }
    }

    protected PrintStream out() {
        return context.out();
    }

    protected void printJson(JsonNode node) {
        context.out().println(Json.pretty(node));
    }

    /**
     * How a write command ends: one line for people, or with -o json|yaml the server's answer
     * (the created version, the group, ...) for scripts.
     */
    protected Integer report(OutputOption output, JsonNode answer, String human) {
        return output.report(out(), answer, human);
    }

    /**
     * How the list commands print: the server's answer as is with -o json|yaml, else one row per entry of
     * {@code reply[key]}, its name first and flagged when the server found the entry's row failing
     * its integrity check (the server still lists it, so an operator sees it rather than a gap).
     */
    protected Integer printList(JsonNode reply, OutputOption output, String key, Table table,
            Function<JsonNode, List<String>> otherColumns) {
        if (output.structured()) {
            output.print(out(), reply);
            return ExitCodes.OK;
        }
        for (JsonNode entry : reply.path(key)) {
            List<String> cells = new ArrayList<>();
            cells.add(Json.text(entry, "name", "?") + (entry.path("intact").asBoolean(true) ? "" : " (INTEGRITY FAILURE)"));
            cells.addAll(otherColumns.apply(entry));
            table.row(cells.toArray(String[]::new));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
