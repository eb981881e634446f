package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.audit.AuditVerifier;
import dev.tresor.audit.VerificationResult;
import dev.tresor.crypto.KeyProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit page: records from {@code GET /v1/audit} (admin only) filtered by client, secret and time
 * on the server, by action and outcome here; and the chain status from verifying the local log
 * with the KEK ({@link AuditVerifier}, as {@code tresor audit verify} does). The keyed chain can only
 * be checked with the key, which the API never hands out, so the status needs {@code --audit-log}.
 */
final class AuditView {

    /** Records asked of the server per page view; action/outcome filtering happens on these. */
    static final int FETCH = 1000;
    /** Rows shown. */
    static final int SHOWN = 200;

    /** The filter as typed; blank fields filter nothing. */
    record Filter(String client, String secret, String action, String outcome, String since, String until) {

        Map<String, String> serverQuery() {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("client", client);
            query.put("secret", secret);
            query.put("since", since);
            query.put("until", until);
            query.put("limit", Integer.toString(FETCH));
            return query;
        }

        boolean keeps(JsonNode record) {
            return (action.isEmpty() || record.path("action").asText().equals(action))
                    && (outcome.isEmpty() || record.path("outcome").asText().equals(outcome));
        }
    }

    /** One record as a table row; {@code verified} is false for records at or after the first broken line. */
    record Row(long seq, String time, String client, String action, String secret, String version, String outcome,
               int status, String detail, boolean verified) {}

    /**
     * The chain's verdict: {@code checked} false when no local log was given; otherwise {@code ok}, how many
     * records verified, and for a broken chain the line number, the problem and the broken line itself.
     */
    record ChainStatus(boolean checked, boolean ok, long verifiedRecords, long lastVerifiedSeq, long brokenLine,
                       String problem, String brokenRecord, Long brokenSeq) {}

    record Result(List<Row> rows, boolean more, String error, ChainStatus chain) {}

    private final TresorApi api;
    private final Path auditLog;
    private final KeyProvider auditKey;
    private final ObjectMapper json;

    AuditView(TresorApi api, Path auditLog, KeyProvider auditKey, ObjectMapper json) {
        this.api = api;
        this.auditLog = auditLog;
        this.auditKey = auditKey;
        this.json = json;
    }

    Result query(Filter filter) {
        ChainStatus chain = chain();
        TresorApi.Reply reply = api.get("audit", filter.serverQuery());
        if (!reply.ok()) {
            return new Result(List.of(), false, reply.error(), chain);
        }
        List<Row> rows = new ArrayList<>();
        JsonNode records = reply.json().path("records");
        // Newest first: an operator looks for what just happened.
        for (int i = records.size() - 1; i >= 0 && rows.size() < SHOWN; i--) {
            JsonNode r = records.get(i);
            if (!filter.keeps(r)) {
                continue;
            }
            long seq = r.path("seq").asLong();
            boolean verified = chain.checked() && (chain.ok() || chain.brokenSeq() == null || seq < chain.brokenSeq());
            rows.add(new Row(seq, shortTime(r.path("time").asText("")), r.path("client").asText(""), r.path("action").asText(""),
                    r.path("secret").asText(""), r.path("version").isNumber() ? r.path("version").asText() : "",
                    r.path("outcome").asText(""), r.path("status").asInt(), r.path("detail").asText(""), verified));
        }
        return new Result(rows, rows.size() == SHOWN || reply.json().path("next").isNumber(), null, chain);
    }

    /** Seconds are enough on screen; the full instant stays in the log. */
    static String shortTime(String instant) {
        int dot = instant.indexOf('.');
        return (dot > 0 ? instant.substring(0, dot) + "Z" : instant).replace('T', ' ');
    }

    ChainStatus chain() {
        if (auditLog == null) {
            return new ChainStatus(false, false, 0, 0, -1, null, null, null);
        }
        VerificationResult result;
        try {
            result = AuditVerifier.verify(List.of(auditLog), auditKey);
        } catch (RuntimeException e) {
            return new ChainStatus(true, false, 0, 0, -1, "cannot verify " + auditLog + ": " + e.getMessage(), null, null);
        }
        long lastSeq = result.firstSeq() + result.records() - 1;
        if (result.ok()) {
            return new ChainStatus(true, true, result.records(), lastSeq, -1, null, null, null);
        }
        String line = result.firstBadLine() > 0 ? line(result.firstBadLine()) : null;
        Long brokenSeq = seqOf(line);
        return new ChainStatus(true, false, result.records(), lastSeq, result.firstBadLine(), result.problem(), line,
                brokenSeq == null ? lastSeq + 1 : brokenSeq);
    }

    /** The text of one line of the (active) log file; audit lines hold no secret values by construction. */
    private String line(long number) {
        Path file = Files.isDirectory(auditLog) ? auditLog.resolve("audit.log") : auditLog;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text = null;
            for (long i = 0; i < number; i++) {
                text = reader.readLine();
                if (text == null) {
                    return null;
                }
            }
            return text.length() > 2000 ? text.substring(0, 2000) + "…" : text;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Long seqOf(String line) {
        if (line == null) {
            return null;
        }
        try {
            JsonNode node = json.readTree(line);
            return node.path("seq").isNumber() ? node.path("seq").asLong() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
