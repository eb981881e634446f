package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "versions", description = "List the versions of a secret: when and by whom each was made, expiry, labels. Never shows values.",
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret versions db/password",
                "  tresor secret versions db/password --json | jq '.versions[].labels'",
        })
final class SecretVersionsCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name.")
    private String name;

    @Mixin
    private OutputOption output;

    SecretVersionsCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() {
        JsonNode versions = connect().get("secrets/" + name + "/versions");
        if (output.structured()) {
            output.print(out(), versions);
            return ExitCodes.OK;
        }
        Table table = new Table("VERSION", "CREATED", "BY", "EXPIRES", "LABELS", "STATE");
        for (JsonNode version : versions.path("versions")) {
            List<String> labels = new ArrayList<>();
            version.path("labels").forEach(l -> labels.add(l.asText()));
            String state = version.path("destroyed").asBoolean() ? "destroyed"
                    : version.path("expired").asBoolean() ? "expired" : "ok";
            table.row(Json.text(version, "version", "?"), Json.text(version, "createdAt", "-"),
                    Json.text(version, "createdBy", "-"), Json.text(version, "expiresAt", "never"),
                    labels.isEmpty() ? "-" : String.join(",", labels), state);
        }
        table.print(out());
        return ExitCodes.OK;
    }
}
