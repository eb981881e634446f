package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "ls", aliases = "list", description = "List the secrets you may read (admins: all), with their versions and groups. Never shows values.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret ls",
                "  tresor secret ls db/",
                "  tresor secret ls --json | jq -r '.secrets[].name'",
        })
final class SecretListCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    /** Page size asked of the server; every page is fetched, so this only trades requests against memory. */
    static final int PAGE = 1000;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX", description = "Only names starting with PREFIX.")
    private String prefix;

    @Mixin
    private OutputOption output;

    SecretListCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        TresorClient api = connect();
        List<JsonNode> secrets = new ArrayList<>();
        String after = null;
        do {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("prefix", prefix);
            query.put("after", after);
            query.put("limit", Integer.toString(PAGE));
            JsonNode page = api.get("secrets", query);
            page.path("secrets").forEach(secrets::add);
            String next = Json.text(page, "next", null);
            // A server that repeats a cursor would loop forever; stop instead.
            after = next == null || next.equals(after) ? null : next;
        } while (after != null);
        if (output.structured()) {
            ObjectNode all = Json.object();
            ArrayNode list = all.putArray("secrets");
            secrets.forEach(list::add);
            all.putNull("next");
            output.print(out(), all);
            return ExitCodes.OK;
        }
        if (secrets.isEmpty()) {
            context.err().println(prefix == null ? "no secrets" : "no secrets under " + prefix);
            return ExitCodes.OK;
        }
        Table table = new Table("NAME", "CURRENT", "LATEST", "GROUPS", "UPDATED");
        for (JsonNode secret : secrets) {
            List<String> groups = new ArrayList<>();
            secret.path("groups").forEach(g -> groups.add(g.asText()));
            String state = secret.path("destroyed").asBoolean() ? " (destroyed)"
                    : Json.text(secret, "deletedAt", null) != null ? " (deleted)" : "";
            table.row(Json.text(secret, "name", "?") + state,
                    Json.text(secret, "currentVersion", "-"),
                    Json.text(secret, "latestVersion", "-"),
                    groups.isEmpty() ? "-" : String.join(",", groups),
                    Json.text(secret, "updatedAt", Json.text(secret, "createdAt", "-")));
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
