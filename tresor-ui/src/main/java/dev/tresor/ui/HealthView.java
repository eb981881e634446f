package dev.tresor.ui;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The health page: the API address (reached with the console's identity: {@code GET /v1/whoami}),
 * and each management address's {@code /readyz}, build version and integrity alarms from
 * {@code /metrics} (any non-zero tamper, audit-failure or TLS-reload-failure counter).
 */
final class HealthView {

    /** Counters that must stay at zero on a healthy server, with what a non-zero value means. */
    static final Map<String, String> ALARMS = Map.of(
            "tresor_integrity_violations_total", "rows failed their integrity check (tampering detected)",
            "tresor_audit_failures_total", "requests refused because no audit sink could record them",
            "tresor_tls_reload_failures_total", "TLS certificate reloads failed");

    private static final Pattern BUILD_VERSION = Pattern.compile("^tresor_build_info\\{[^}]*version=\"([^\"]*)\"",
            Pattern.MULTILINE);

    record Api(String address, boolean reachable, String identity, boolean admin, String error) {}

    record Alarm(String metric, String value, String meaning) {}

    record Node(String address, int readyStatus, String ready, String version, List<Alarm> alarms, String error) {}

    private final TresorApi api;
    private final List<URI> management;

    HealthView(TresorApi api, List<URI> management) {
        this.api = api;
        this.management = management;
    }

    Api api() {
        TresorApi.Reply reply = api.get("whoami", Map.of());
        if (!reply.ok()) {
            return new Api(api.base().toString(), reply.status() != 0, null, false, reply.error());
        }
        String identity = reply.json().path("identity").asText(reply.json().path("name").asText(""));
        return new Api(api.base().toString(), true, identity, reply.json().path("admin").asBoolean(false), null);
    }

    List<Node> nodes() {
        List<Node> nodes = new ArrayList<>();
        for (URI address : management) {
            TresorApi.TextReply ready = api.management(address, "/readyz");
            if (ready.status() == 0) {
                nodes.add(new Node(address.toString(), 0, "unreachable", "", List.of(), ready.error()));
                continue;
            }
            TresorApi.TextReply metrics = api.management(address, "/metrics");
            String version = "";
            List<Alarm> alarms = new ArrayList<>();
            if (metrics.status() == 200) {
                Matcher m = BUILD_VERSION.matcher(metrics.body());
                version = m.find() ? m.group(1) : "";
                alarms = alarms(metrics.body());
            }
            nodes.add(new Node(address.toString(), ready.status(), ready.body().strip(), version, alarms,
                    metrics.status() == 200 ? null : "/metrics answered HTTP " + metrics.status()));
        }
        return nodes;
    }

    /** Every alarm counter with a value above zero (summed over its label sets). */
    static List<Alarm> alarms(String metrics) {
        List<Alarm> alarms = new ArrayList<>();
        for (Map.Entry<String, String> alarm : ALARMS.entrySet()) {
            double total = 0;
            Matcher m = Pattern.compile("^" + Pattern.quote(alarm.getKey()) + "(\\{[^}]*})?\\s+(\\S+)", Pattern.MULTILINE)
                    .matcher(metrics);
            while (m.find()) {
                try {
                    total += Double.parseDouble(m.group(2));
                } catch (NumberFormatException e) {
                    // A malformed sample is not an alarm value; skip it.
                }
            }
            if (total > 0) {
                alarms.add(new Alarm(alarm.getKey(), Long.toString((long) total), alarm.getValue()));
            }
        }
        alarms.sort(java.util.Comparator.comparing(Alarm::metric));
        return alarms;
    }
}
