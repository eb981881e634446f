package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Rotation page: for each rotation's slot secret ({@code tresor rotate}'s {@code secrets.slots}),
 * its versions and a timeline of runs from the audit log. A run writes a {@code pending} version,
 * moves {@code current} to it (the flip: the standby becomes active), writes the old slot's new
 * password as another pending version and moves {@code current} again (the commit). So a
 * {@code current} move forward is a flip or a commit, a move back is a rollback, and a refused
 * or failed write or move is a failure. The active slot is in the value, so it is shown only on an
 * explicit click (one audited read, like a reveal) and nothing else of the value leaves the console.
 */
final class RotationView {

    /** One step of the timeline, oldest first. */
    record Event(String time, String kind, Integer version, String client, String outcome) {}

    /** A rotation's state: its current version, last run and its outcome, and the timeline. */
    record Rotation(String slotSecret, Integer currentVersion, int versions, String lastRun, String lastOutcome,
                    List<Event> timeline, String error) {}

    static final String INTENT = "intent";

    private final TresorApi api;
    private final ObjectMapper json;

    RotationView(TresorApi api, ObjectMapper json) {
        this.api = api;
        this.json = json;
    }

    Rotation rotation(String slotSecret) {
        TresorApi.Reply versions = api.get("secrets/" + slotSecret + "/versions", Map.of());
        if (!versions.ok()) {
            return new Rotation(slotSecret, null, 0, null, null, List.of(), versions.error());
        }
        Integer current = null;
        for (JsonNode v : versions.json().path("versions")) {
            for (JsonNode label : v.path("labels")) {
                if (label.asText().equals("current")) {
                    current = v.path("version").asInt();
                }
            }
        }
        Map<String, String> query = new LinkedHashMap<>();
        query.put("secret", slotSecret);
        query.put("limit", "10000");
        TresorApi.Reply audit = api.get("audit", query);
        if (!audit.ok()) {
            return new Rotation(slotSecret, current, versions.json().path("versions").size(), null, null, List.of(),
                    audit.error());
        }
        List<Raw> raw = new ArrayList<>();
        for (JsonNode r : audit.json().path("records")) {
            String action = r.path("action").asText();
            // An "intent" record precedes every state change (written before the store commits); its outcome follows.
            if (!action.equals("secret.write") && !action.equals("secret.label")
                    || r.path("outcome").asText().equals(INTENT)) {
                continue;
            }
            raw.add(new Raw(AuditView.shortTime(r.path("time").asText("")), action.equals("secret.write"),
                    r.path("outcome").asText(""), r.path("version").isNumber() ? r.path("version").asInt() : null,
                    r.path("client").asText("")));
        }
        List<Event> timeline = classify(raw, current);
        String lastRun = null;
        String lastOutcome = null;
        for (Event e : timeline) {
            if (!e.kind().equals(INITIAL)) {
                lastRun = e.time();
                lastOutcome = e.kind().equals(FLIP) || e.kind().equals(COMMIT) || e.kind().equals(PENDING) ? "ok"
                        : "failed: " + e.kind();
            }
        }
        return new Rotation(slotSecret, current, versions.json().path("versions").size(), lastRun, lastOutcome, timeline,
                null);
    }

    /** A write or label move of the slot secret as the audit log has it. */
    private record Raw(String time, boolean write, String outcome, Integer version, String client) {
        boolean allowed() {
            return outcome.equals("allowed");
        }
    }

    static final String INITIAL = "initial value";
    static final String PENDING = "pending version";
    static final String ABANDONED = "pending abandoned (the run failed before the flip)";
    static final String RECORDED = "recorded as current (rollback or repair)";
    static final String FLIP = "flip";
    static final String COMMIT = "commit (old slot re-keyed)";
    static final String ROLLBACK = "rollback (current moved back)";
    static final String FAILURE = "failure";

    /**
     * Names each step. The audit log does not say which labels a write carried, so a write is named by
     * what followed it: a move of {@code current} to it makes it a pending version; another write right
     * after it makes it an abandoned pending version, and that next write the rollback record (the
     * engine writes the old slot back as current); the last write, if it is current now, was written
     * as current. Forward moves of {@code current} alternate flip, commit within a run.
     */
    private static List<Event> classify(List<Raw> raw, Integer current) {
        List<Event> timeline = new ArrayList<>();
        Integer pointer = null;
        boolean flipped = false;
        boolean previousAbandoned = false;
        for (int i = 0; i < raw.size(); i++) {
            Raw e = raw.get(i);
            String kind;
            if (!e.allowed()) {
                kind = FAILURE;
                flipped = false;
            } else if (e.write() && pointer == null) {
                kind = INITIAL;
                pointer = e.version();
            } else if (e.write()) {
                Raw next = nextAllowed(raw, i);
                boolean labelledNext = next != null && !next.write() && java.util.Objects.equals(next.version(), e.version());
                if (labelledNext) {
                    kind = PENDING;
                    previousAbandoned = false;
                } else if (previousAbandoned || next == null && java.util.Objects.equals(e.version(), current)) {
                    kind = RECORDED;
                    pointer = e.version();
                    previousAbandoned = false;
                    flipped = false;
                } else {
                    kind = ABANDONED;
                    previousAbandoned = true;
                }
            } else if (e.version() != null && pointer != null && e.version() < pointer) {
                kind = ROLLBACK;
                pointer = e.version();
                flipped = false;
            } else {
                kind = flipped ? COMMIT : FLIP;
                flipped = !flipped;
                pointer = e.version();
            }
            timeline.add(new Event(e.time(), kind, e.version(), e.client(), e.outcome()));
        }
        return timeline;
    }

    private static Raw nextAllowed(List<Raw> raw, int index) {
        for (int j = index + 1; j < raw.size(); j++) {
            if (raw.get(j).allowed()) {
                return raw.get(j);
            }
        }
        return null;
    }

    /** One audited read of the current value; only its {@code active_slot} is kept. */
    String activeSlot(String slotSecret) {
        TresorApi.Reply reply = api.get("secrets/" + slotSecret, Map.of());
        if (!reply.ok()) {
            return "refused: " + reply.error();
        }
        try {
            JsonNode document = json.readTree(reply.json().path("value").asText());
            String slot = document.path("active_slot").asText("");
            return slot.isEmpty() ? "not a slot secret (no active_slot)" : slot;
        } catch (IOException e) {
            return "not a slot secret (the value is not JSON)";
        }
    }
}
