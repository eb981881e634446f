package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "tail", description = {
                "Show the newest audit records (admins): who did what to which secret, and how it ended.",
                "--follow keeps polling every second and prints new records as they arrive (Ctrl-C stops); "
                        + "with --json it prints one JSON object per line.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor audit tail",
                "  tresor audit tail --client app1 --since 1h",
                "  tresor audit tail --secret db/password --since 2025-01-01T00:00:00Z",
                "  tresor audit tail -f --json | jq -c 'select(.outcome != \"allowed\")'",
        })
final class AuditTailCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    static final int FOLLOW_BATCH = 1000;
    static final long POLL_MILLIS = 1000;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "How many records (default: ${DEFAULT-VALUE}).")
    private int limit;

    @Option(names = "--client", paramLabel = "CLIENT", description = "Only records of this client.")
    private String client;

    @Option(names = "--secret", paramLabel = "SECRET", description = "Only records about this secret.")
    private String secret;

    @Option(names = "--since", paramLabel = "DURATION|INSTANT", description = "Only records from then on: 15m, 24h, 7d or 2025-01-31T00:00:00Z.")
    private String since;

    @Option(names = {"--follow", "-f"}, description = "Keep printing new records as they arrive.")
    private boolean follow;

    @Option(names = "--json", description = "Print the server's JSON (with --follow: one record per line).")
    private boolean json;

    AuditTailCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() throws InterruptedException {
        if (limit < 1) {
            throw CliException.usage("--limit must be at least 1");
        }
        TresorClient api = connect();
        JsonNode first = api.get("audit", query(since, limit));
        if (!follow) {
            if (json) {
                printJson(first);
            } else {
                printTable(first.path("records"));
            }
            return ExitCodes.OK;
        }
        return follow(api, first.path("records"));
    }

    private Map<String, String> query(String from, int count) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("limit", Integer.toString(count));
        query.put("client", client);
        query.put("secret", secret);
        query.put("since", from);
        return query;
    }

    /**
     * Polls with {@code since} = the newest time seen. Records at exactly that time come back on
     * the next poll, so the keys of those are remembered and skipped.
     */
    private int follow(TresorClient api, JsonNode initial) throws InterruptedException {
        FollowState state = new FollowState();
        if (!json) {
            out().println(String.join("  ", HEADERS));
        }
        state.emitNew(initial, this::printRecord);
        boolean waiting = false;
        while (!Thread.currentThread().isInterrupted()) {
            Thread.sleep(POLL_MILLIS);
            JsonNode batch;
            try {
                batch = api.get("audit", query(state.newest == null ? since : state.newest.toString(), FOLLOW_BATCH));
            } catch (CliException e) {
                if (e.exitCode() != ExitCodes.UNAVAILABLE) {
                    throw e;
                }
                if (!waiting) {
                    context.err().println("tresor: " + e.getMessage() + "; retrying every second");
                    waiting = true;
                }
                continue;
            }
            if (waiting) {
                context.err().println("tresor: connected again");
                waiting = false;
            }
            state.emitNew(batch.path("records"), this::printRecord);
        }
        return ExitCodes.OK;
    }

    /** The follow loop's memory: the newest time seen and which records carried it. */
    static final class FollowState {
        Instant newest;
        final Set<String> keysAtNewest = new HashSet<>();

        void emitNew(JsonNode records, java.util.function.Consumer<JsonNode> printer) {
            for (JsonNode record : records) {
                Instant time = time(record);
                String key = key(record);
                if (time != null && newest != null && time.isBefore(newest)) {
                    continue;
                }
                if (time != null && time.equals(newest) && !keysAtNewest.add(key)) {
                    continue;
                }
                if (time != null && (newest == null || time.isAfter(newest))) {
                    newest = time;
                    keysAtNewest.clear();
                    keysAtNewest.add(key);
                }
                printer.accept(record);
            }
        }

        /** Time, request id and action identify a record; the sequence number separates records without a request id. */
        static String key(JsonNode record) {
            return Json.text(record, "time", "") + '|' + Json.text(record, "requestId", "") + '|'
                    + Json.text(record, "action", "") + '|' + Json.text(record, "seq", "");
        }

        private static Instant time(JsonNode record) {
            try {
                String text = Json.text(record, "time", null);
                return text == null ? null : Instant.parse(text);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
    }

    private static final List<String> HEADERS = List.of("TIME", "CLIENT", "ACTION", "SECRET", "OUTCOME", "STATUS", "REQUEST");

    private void printRecord(JsonNode record) {
        if (json) {
            out().println(Json.compact(record));
        } else {
            out().println(String.join("  ", cells(record)));
        }
    }

    private void printTable(JsonNode records) {
        if (records.isEmpty()) {
            context.err().println("no audit records match");
            return;
        }
        Table table = new Table(HEADERS.toArray(String[]::new));
        for (JsonNode record : records) {
            table.row(cells(record).toArray(String[]::new));
        }
        table.print(out());
    }

    private static List<String> cells(JsonNode record) {
        List<String> cells = new ArrayList<>();
        cells.add(Json.text(record, "time", "-"));
        cells.add(Table.printable(Json.text(record, "client", "-")));
        cells.add(Json.text(record, "action", "-"));
        String secretName = Json.text(record, "secret", null);
        String version = Json.text(record, "version", null);
        cells.add(secretName == null ? "-" : Table.printable(secretName) + (version == null ? "" : "#" + version));
        cells.add(Json.text(record, "outcome", "-"));
        String status = Json.text(record, "status", "0");
        cells.add(status.equals("0") ? "-" : status);
        cells.add(Json.text(record, "requestId", "-"));
        return cells;
    }
}
