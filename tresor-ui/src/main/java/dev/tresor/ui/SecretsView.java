package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The secrets pages' data, fetched from the API as the console's identity: the tree, one secret's
 * versions, the "expiring soon" list, a reveal, and the write actions. Everything shown comes from
 * the server's answer; nothing is cached, so each page is as fresh as the server.
 */
final class SecretsView {

    /** Secrets listed per API call; the tree follows {@code next} until the end. */
    private static final int PAGE = 1000;
    /** Expiry needs one versions call per secret; past this many the page says it stopped. */
    static final int EXPIRY_SCAN_LIMIT = 2000;

    /** One line of the tree: a folder (a name prefix) or a secret. */
    record TreeRow(int depth, String label, String path, boolean folder, boolean deleted, Integer currentVersion,
                   int latestVersion, String createdBy, String updatedAt, String groups, String labels) {}

    /** One version of a secret, newest first. */
    record VersionRow(int version, String createdAt, String createdBy, String expiresAt, String labels, boolean current,
                      boolean expired, boolean destroyed) {}

    /** A secret's current version that expires within the window (or has expired). */
    record ExpiringRow(String name, int version, String expiresAt, String left, boolean expired) {}

    /** The result of a reveal: the value (only ever put in the page that asked), or the server's refusal. */
    record Reveal(Integer version, String value, String encoding, String refusal) {}

    private final TresorApi api;
    private final Clock clock;

    SecretsView(TresorApi api, Clock clock) {
        this.api = api;
        this.clock = clock;
    }

    /** Every secret the identity may see, following pages; an API failure becomes {@code error}. */
    record Listing(List<JsonNode> secrets, String error) {}

    Listing list(String prefix) {
        List<JsonNode> all = new ArrayList<>();
        String after = null;
        do {
            Map<String, String> query = new LinkedHashMap<>();
            query.put("limit", Integer.toString(PAGE));
            query.put("prefix", prefix);
            query.put("after", after);
            TresorApi.Reply reply = api.get("secrets", query);
            if (!reply.ok()) {
                return new Listing(all, reply.error());
            }
            reply.json().path("secrets").forEach(all::add);
            JsonNode next = reply.json().path("next");
            after = next.isTextual() ? next.asText() : null;
        } while (after != null);
        return new Listing(all, null);
    }

    /** The tree by path: a folder row for each new name prefix, then the secret, all sorted by name. */
    static List<TreeRow> tree(List<JsonNode> secrets) {
        List<JsonNode> sorted = new ArrayList<>(secrets);
        sorted.sort(Comparator.comparing(s -> s.path("name").asText()));
        List<TreeRow> rows = new ArrayList<>();
        List<String> openFolders = new ArrayList<>();
        for (JsonNode secret : sorted) {
            String name = secret.path("name").asText();
            String[] parts = name.split("/");
            int shared = 0;
            while (shared < openFolders.size() && shared < parts.length - 1 && openFolders.get(shared).equals(parts[shared])) {
                shared++;
            }
            while (openFolders.size() > shared) {
                openFolders.removeLast();
            }
            for (int i = shared; i < parts.length - 1; i++) {
                openFolders.add(parts[i]);
                rows.add(new TreeRow(i, parts[i] + "/", String.join("/", openFolders) + "/", true, false, null, 0,
                        null, null, null, null));
            }
            JsonNode current = secret.path("currentVersion");
            rows.add(new TreeRow(parts.length - 1, parts[parts.length - 1], name, false,
                    !secret.path("deletedAt").isNull() && !secret.path("deletedAt").isMissingNode(),
                    current.isNumber() ? current.intValue() : null, secret.path("latestVersion").asInt(0),
                    secret.path("createdBy").asText(""), secret.path("updatedAt").asText(""),
                    joined(secret.path("groups")), labels(secret.path("labels"))));
        }
        return rows;
    }

    /** The secret's metadata as the list shows it, or empty if the identity may not see it. */
    Optional<JsonNode> meta(String name) {
        Listing listing = list(name);
        return listing.secrets().stream().filter(s -> s.path("name").asText().equals(name)).findFirst();
    }

    record Versions(List<VersionRow> rows, String error) {}

    Versions versions(String name, Integer currentVersion) {
        TresorApi.Reply reply = api.get("secrets/" + name + "/versions", Map.of());
        if (!reply.ok()) {
            return new Versions(List.of(), reply.error());
        }
        List<VersionRow> rows = new ArrayList<>();
        for (JsonNode v : reply.json().path("versions")) {
            int number = v.path("version").asInt();
            rows.add(new VersionRow(number, v.path("createdAt").asText(""), v.path("createdBy").asText(""),
                    v.path("expiresAt").isTextual() ? v.path("expiresAt").asText() : "",
                    joined(v.path("labels")), currentVersion != null && currentVersion == number,
                    v.path("expired").asBoolean(false), v.path("destroyed").asBoolean(false)));
        }
        rows.sort(Comparator.comparingInt(VersionRow::version).reversed());
        return new Versions(rows, null);
    }

    record Expiring(List<ExpiringRow> rows, boolean truncated, String error) {}

    /** Current versions that expire within {@code window} (or already have), soonest first. */
    Expiring expiring(Duration window) {
        Listing listing = list(null);
        Instant now = clock.instant();
        Instant horizon = now.plus(window);
        List<ExpiringRow> rows = new ArrayList<>();
        int scanned = 0;
        for (JsonNode secret : listing.secrets()) {
            if (!secret.path("deletedAt").isNull() && !secret.path("deletedAt").isMissingNode()
                    || !secret.path("currentVersion").isNumber()) {
                continue;
            }
            if (++scanned > EXPIRY_SCAN_LIMIT) {
                return new Expiring(sorted(rows), true, listing.error());
            }
            String name = secret.path("name").asText();
            int current = secret.path("currentVersion").asInt();
            TresorApi.Reply reply = api.get("secrets/" + name + "/versions", Map.of());
            if (!reply.ok()) {
                continue;
            }
            for (JsonNode v : reply.json().path("versions")) {
                if (v.path("version").asInt() != current || !v.path("expiresAt").isTextual()) {
                    continue;
                }
                Instant expiresAt = instant(v.path("expiresAt").asText());
                if (expiresAt != null && !expiresAt.isAfter(horizon)) {
                    boolean expired = !expiresAt.isAfter(now);
                    rows.add(new ExpiringRow(name, current, expiresAt.toString(),
                            expired ? "expired" : "in " + human(Duration.between(now, expiresAt)), expired));
                }
            }
        }
        return new Expiring(sorted(rows), false, listing.error());
    }

    /** One audited read by the console's identity; a refusal carries the server's own reason. */
    Reveal reveal(String name, Integer version) {
        Map<String, String> query = new LinkedHashMap<>();
        query.put("version", version == null ? null : version.toString());
        TresorApi.Reply reply = api.get("secrets/" + name, query);
        if (!reply.ok()) {
            return new Reveal(version, null, null, reply.error());
        }
        return new Reveal(reply.json().path("version").asInt(), reply.json().path("value").asText(),
                reply.json().path("encoding").asText("utf-8"), null);
    }

    /** The server's refusal, or null when the action succeeded. */
    String addVersion(String name, String value) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("value", value);
        return failure(api.send("PUT", "secrets/" + name, Map.of(), body));
    }

    String moveLabel(String name, String label, int version) {
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("label", label).put("version", version);
        return failure(api.send("POST", "secrets/" + name + "/labels", Map.of(), body));
    }

    String softDelete(String name) {
        return failure(api.send("DELETE", "secrets/" + name, Map.of(), null));
    }

    String restore(String name) {
        return failure(api.send("POST", "secrets/" + name + "/restore", Map.of(), null));
    }

    private static String failure(TresorApi.Reply reply) {
        return reply.ok() ? null : reply.error();
    }

    private static List<ExpiringRow> sorted(List<ExpiringRow> rows) {
        rows.sort(Comparator.comparing(ExpiringRow::expiresAt));
        return rows;
    }

    static String joined(JsonNode array) {
        List<String> parts = new ArrayList<>();
        array.forEach(n -> parts.add(n.asText()));
        return String.join(", ", parts);
    }

    /** The list answer's labels are an object label → version. */
    static String labels(JsonNode labels) {
        List<String> parts = new ArrayList<>();
        labels.properties().forEach(e -> parts.add(e.getKey() + "→v" + e.getValue().asText()));
        return String.join(", ", parts);
    }

    static Instant instant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    static String human(Duration d) {
        if (d.toDays() >= 1) {
            return d.toDays() + "d " + d.toHoursPart() + "h";
        }
        if (d.toHours() >= 1) {
            return d.toHours() + "h " + d.toMinutesPart() + "m";
        }
        return Math.max(1, d.toMinutes()) + "m";
    }
}
