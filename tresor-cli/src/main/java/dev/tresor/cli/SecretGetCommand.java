package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "get",
        description = {
                "Print a secret's value (the current version unless --version or --label picks another).",
                "Text values are printed with a final newline; --raw prints the exact bytes; --out writes them to a "
                        + "file with mode 0600 and prints nothing.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret get db/password",
                "  PGPASSWORD=\"$(tresor secret get db/password)\" psql ...",
                "  tresor secret get tls/key --out /run/secrets/tls.key",
                "  tresor secret get db/password --version 3 --raw | sha256sum",
                "  tresor secret get db/password --label previous --json | jq -r .createdAt",
        })
final class SecretGetCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name.")
    private String name;

    @ArgGroup(exclusive = true)
    private Selector selector;

    static final class Selector {
        @Option(names = "--version", paramLabel = "N", description = "Read version N.")
        Integer version;

        @Option(names = "--label", paramLabel = "LABEL", description = "Read the version carrying LABEL (current, previous, pending, ...).")
        String label;
    }

    @Option(names = "--parents", description = "With --out: create the missing folders of FILE.")
    private boolean parents;

    @Option(names = "--allow-expired", description = "Return the value even if the version has expired.")
    private boolean allowExpired;

    @ArgGroup(exclusive = true)
    private Format format;

    static final class Format {
        @Option(names = "--raw", description = "Print the exact bytes, no newline added (binary values too).")
        boolean raw;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the exact bytes to FILE (mode 0600, atomically); print nothing.")
        Path out;

        @Option(names = "--json", description = "Print the server's JSON (value, version, dates, labels); the same as -o json.")
        boolean json;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (the value; the default), json or yaml.")
        OutputOption.Format output;
    }

    SecretGetCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() throws IOException {
        if (format != null && format.out != null) {
            OutputFolders.requireParentOf(format.out, parents, "--out");
        } else if (parents) {
            throw CliException.usage("--parents goes with --out FILE");
        }
        TresorClient api = connect();
        Map<String, String> query = new LinkedHashMap<>();
        if (selector != null && selector.version != null) {
            query.put("version", selector.version.toString());
        }
        if (selector != null && selector.label != null) {
            query.put("label", selector.label);
        }
        if (allowExpired) {
            query.put("allowExpired", "true");
        }
        boolean bytesWanted = format != null && (format.raw || format.out != null);
        ApiReply reply = api.send("GET", "secrets/" + name, query, null, bytesWanted ? TresorClient.OCTETS : TresorClient.JSON);
        try {
            if (!reply.ok()) {
                CliException failure = TresorClient.failure(reply);
                // The server speaks in query parameters; say it the CLI's way.
                throw new CliException(failure.exitCode(),
                        failure.getMessage().replace("add allowExpired=true", "pass --allow-expired"));
            }
            if (format != null && format.out != null) {
                try {
                    SecureFiles.writeOwnerOnly(format.out, reply.body());
                } catch (IOException e) {
                    throw CliException.error("cannot write --out " + format.out + ": " + e.getMessage());
                }
            } else if (format != null && format.raw) {
                out().writeBytes(reply.body());
                out().flush();
            } else if (format != null && (format.json || format.output == OutputOption.Format.JSON)) {
                printJson(reply.json());
            } else if (format != null && format.output == OutputOption.Format.YAML) {
                out().println(Json.yaml(reply.json()));
            } else {
                printText(reply.json());
            }
        } finally {
            reply.wipe();
        }
        return ExitCodes.OK;
    }

    private void printText(JsonNode secret) {
        if (!"utf-8".equals(Json.text(secret, "encoding", "utf-8"))) {
            throw CliException.usage(name + " version " + Json.text(secret, "version", "?")
                    + " holds binary data; use --raw (to stdout) or --out FILE");
        }
        byte[] value = Json.text(secret, "value", "").getBytes(StandardCharsets.UTF_8);
        out().write(value, 0, value.length);
        if (value.length == 0 || value[value.length - 1] != '\n') {
            out().write('\n');
        }
        out().flush();
        java.util.Arrays.fill(value, (byte) 0);
    }
}
