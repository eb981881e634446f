package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "put", description = {
                "Store a new version of a secret (creating the secret if needed). The value is never printed.",
                "Give the value in exactly one way: --file FILE or - (standard input; typed without echo on a terminal) "
                        + "keep it out of your shell history; --value TEXT does not.",
                "Values are stored byte for byte: `echo` adds a newline, `printf %%s` does not. Files that are not "
                        + "UTF-8 text are sent as bytes (base64 on the wire).",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor secret put db/password --file ./pw.txt --group app",
                "  tresor secret put db/password - --group app          # type it, hidden",
                "  vault-export | tresor secret put db/password -        # from a pipe",
                "  tresor secret put tls/key --file server.key --ttl 90d --label current",
                "  tresor secret put api/token --file t.txt --cas 3   # if v3 is current",
        })
final class SecretPutCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    /** The server's limit for a value; checked here too so a huge file fails before it is sent. */
    static final int MAX_VALUE_BYTES = 1024 * 1024;

    @Parameters(index = "0", paramLabel = "NAME", description = "Secret name, path-like: db/password.")
    private String name;

    // Labelled STDIN, not "-": picocli's completion generator cannot name a parameter "-".
    @Parameters(index = "1", arity = "0..1", paramLabel = "STDIN",
            description = "Give - to read the value from standard input (a hidden prompt on a terminal).")
    private String stdinMarker;

    @Option(names = "--value", paramLabel = "TEXT",
            description = "The value as text. Ends up in shell history and the process list; prefer --file or -.")
    private String value;

    @Option(names = "--file", paramLabel = "FILE", description = "Read the value from FILE (text or binary).")
    private Path file;

    @Option(names = "--expires", paramLabel = "INSTANT", description = "Expiry time, ISO-8601, e.g. 2027-01-31T00:00:00Z.")
    private String expires;

    @Option(names = "--ttl", paramLabel = "DURATION", description = "Expire after this long, e.g. 12h, 90d.")
    private String ttl;

    @Option(names = "--group", paramLabel = "GROUP",
            description = "Group that may read the secret (repeatable; admins only; default: the secret's current groups).")
    private List<String> groups;

    @Option(names = "--description", paramLabel = "TEXT", description = "What the secret is for.")
    private String description;

    @Option(names = "--metadata", paramLabel = "KEY=VALUE", description = "Extra metadata on this version (repeatable).")
    private Map<String, String> metadata;

    @Option(names = "--cas", paramLabel = "N",
            description = "Check-and-set: store only if version N is the current one (0: only if the secret is new).")
    private Integer cas;

    @Option(names = "--label", paramLabel = "LABEL", description = "Put this label on the new version (repeatable), e.g. pending.")
    private List<String> labels;

    SecretPutCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() throws IOException {
        int sources = (value != null ? 1 : 0) + (file != null ? 1 : 0) + (stdinMarker != null ? 1 : 0);
        if (stdinMarker != null && !stdinMarker.equals("-")) {
            throw CliException.usage("unexpected argument '" + stdinMarker + "': the only argument after NAME is '-' (read the value from stdin)");
        }
        if (sources != 1) {
            throw CliException.usage(sources == 0
                    ? "give the value with --file FILE, - (stdin) or --value TEXT"
                    : "give the value in one way only: --file FILE, - (stdin) or --value TEXT");
        }
        if (expires != null && ttl != null) {
            throw CliException.usage("give either --expires or --ttl, not both");
        }
        TresorClient api = connect();
        byte[] bytes = readValue();
        ObjectNode body = Json.object();
        try {
            String text = utf8(bytes);
            if (text != null) {
                body.put("value", text);
            } else {
                body.put("valueBase64", Base64.getEncoder().encodeToString(bytes));
            }
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        if (description != null) {
            body.put("description", description);
        }
        if (expires != null) {
            body.put("expiresAt", expires);
        }
        if (ttl != null) {
            body.put("ttl", ttl);
        }
        if (groups != null) {
            ArrayNode list = body.putArray("groups");
            groups.forEach(list::add);
        }
        if (metadata != null) {
            ObjectNode map = body.putObject("metadata");
            metadata.forEach(map::put);
        }
        if (cas != null) {
            body.put("cas", cas);
        }
        if (labels != null) {
            ArrayNode list = body.putArray("labels");
            labels.forEach(list::add);
        }
        byte[] request = Json.bytes(body);
        body.removeAll();
        ApiReply reply;
        try {
            // One key per invocation: a retry on another node (or after a lost answer) cannot write twice.
            reply = api.send("PUT", "secrets/" + name, Map.of(), request, TresorClient.JSON,
                    Map.of("Idempotency-Key", "cli-" + java.util.UUID.randomUUID()));
        } finally {
            Arrays.fill(request, (byte) 0);
        }
        if (!reply.ok()) {
            throw TresorClient.failure(reply);
        }
        JsonNode stored = reply.json();
        return report(output, stored, "stored " + name + " version " + Json.text(stored, "version", "?"));
    }

    private byte[] readValue() throws IOException {
        if (value != null) {
            return value.getBytes(StandardCharsets.UTF_8);
        }
        if (file != null) {
            try {
                if (Files.size(file) > MAX_VALUE_BYTES) {
                    throw CliException.usage("file " + file + " is larger than 1 MiB, the most a secret may hold");
                }
                return Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                throw CliException.usage("--file " + file + " does not exist");
            } catch (IOException e) {
                throw CliException.usage("cannot read --file " + file + ": " + e.getMessage());
            }
        }
        if (context.console() != null) {
            char[] typed = context.console().readPassword("value for %s (input hidden): ", name);
            if (typed == null) {
                throw CliException.usage("no value typed");
            }
            ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(typed));
            Arrays.fill(typed, '\0');
            byte[] result = Arrays.copyOf(encoded.array(), encoded.limit());
            Arrays.fill(encoded.array(), (byte) 0);
            return result;
        }
        InputStream in = context.stdin();
        byte[] read = in.readNBytes(MAX_VALUE_BYTES + 1);
        if (read.length > MAX_VALUE_BYTES) {
            Arrays.fill(read, (byte) 0);
            throw CliException.usage("standard input holds more than 1 MiB, the most a secret may hold");
        }
        return read;
    }

    /** The text if the bytes are valid UTF-8, else null (the value then travels as base64). */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
