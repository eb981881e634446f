package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Renders a client record ({@code whoami}, {@code client show}) for people. */
final class ClientDetails {

    private ClientDetails() {}

    static void print(JsonNode client, PrintStream out) {
        out.println("name:      " + Table.printable(Json.text(client, "name", null)));
        out.println("identity:  " + Table.printable(Json.text(client, "identity", null)));
        out.println("admin:     " + (client.path("admin").asBoolean() ? "yes" : "no"));
        if (client.has("enabled") && !client.path("enabled").asBoolean(true)) {
            out.println("enabled:   no");
        }
        out.println("groups:    " + groups(client));
        out.println("created:   " + Json.text(client, "createdAt", "-") + " by " + Table.printable(Json.text(client, "createdBy", null)));
        if (client.has("intact") && !client.path("intact").asBoolean(true)) {
            out.println("WARNING:   this client's records failed their integrity check; the server refuses to use them");
        }
    }

    /** {@code app (read), ops (write)}, or "-" for none. */
    static String groups(JsonNode client) {
        List<String> groups = new ArrayList<>();
        for (JsonNode membership : client.path("groups")) {
            groups.add(Table.printable(Json.text(membership, "group", "?")) + " (" + Json.text(membership, "role", "read") + ")");
        }
        return groups.isEmpty() ? "-" : String.join(", ", groups);
    }
}
