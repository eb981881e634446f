package dev.tresor.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The access graph (clients → groups → secrets, from {@code /v1/clients} and {@code /v1/groups}) and
 * the two questions side by side: who can read a secret and through which group, and who did read it
 * in the last N days (from the audit log); or the reverse for a client. Admin only, like the API
 * calls it is made of.
 */
final class AccessView {

    /** A grant path: {@code client} may read {@code secret} as a member of {@code group} with {@code role}. */
    record Path(String client, String group, String role, String secret) {}

    /** Reads by one client of one secret in the window: allowed and denied counts, the last attempt. */
    record Reads(String client, String secret, int allowed, int denied, String last) {}

    /** The whole estate as the console's identity sees it, plus the graph as Cytoscape elements (JSON). */
    record Estate(List<Path> paths, List<String> clients, List<String> groups, List<String> secrets, String error) {}

    record Answer(List<Path> canRead, List<Reads> didRead, String auditError) {}

    private final TresorApi api;
    private final ObjectMapper json;

    AccessView(TresorApi api, ObjectMapper json) {
        this.api = api;
        this.json = json;
    }

    Estate estate() {
        TresorApi.Reply clients = api.get("clients", Map.of());
        TresorApi.Reply groups = api.get("groups", Map.of());
        if (!clients.ok() || !groups.ok()) {
            return new Estate(List.of(), List.of(), List.of(), List.of(), clients.ok() ? groups.error() : clients.error());
        }
        List<String> clientNames = new ArrayList<>();
        clients.json().path("clients").forEach(c -> clientNames.add(c.path("name").asText()));
        List<String> groupNames = new ArrayList<>();
        List<String> secretNames = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        for (JsonNode listed : groups.json().path("groups")) {
            String group = listed.path("name").asText();
            groupNames.add(group);
            TresorApi.Reply detail = api.get("groups/" + group, Map.of());
            if (!detail.ok()) {
                continue;
            }
            List<String> secrets = new ArrayList<>();
            detail.json().path("secrets").forEach(s -> secrets.add(s.asText()));
            secrets.stream().filter(s -> !secretNames.contains(s)).forEach(secretNames::add);
            for (JsonNode member : detail.json().path("clients")) {
                for (String secret : secrets) {
                    paths.add(new Path(member.path("client").asText(), group, member.path("role").asText("read"), secret));
                }
                if (secrets.isEmpty()) {
                    paths.add(new Path(member.path("client").asText(), group, member.path("role").asText("read"), null));
                }
            }
            if (detail.json().path("clients").isEmpty()) {
                secrets.forEach(s -> paths.add(new Path(null, group, null, s)));
            }
        }
        secretNames.sort(null);
        return new Estate(paths, clientNames, groupNames, secretNames, null);
    }

    /** Who can read {@code secret} (and through which group), and who read it in the last {@code days} days. */
    Answer forSecret(Estate estate, String secret, int days) {
        List<Path> can = estate.paths().stream().filter(p -> p.client() != null && secret.equals(p.secret()))
                .sorted(Comparator.comparing(Path::client).thenComparing(Path::group)).toList();
        return reads(can, Map.of("secret", secret, "since", days + "d"), days);
    }

    /** What {@code client} can read (and through which group), and what it read in the last {@code days} days. */
    Answer forClient(Estate estate, String client, int days) {
        List<Path> can = estate.paths().stream().filter(p -> client.equals(p.client()) && p.secret() != null)
                .sorted(Comparator.comparing(Path::secret).thenComparing(Path::group)).toList();
        return reads(can, Map.of("client", client, "since", days + "d"), days);
    }

    private Answer reads(List<Path> can, Map<String, String> filter, int days) {
        Map<String, String> query = new LinkedHashMap<>(filter);
        query.put("limit", "10000");
        TresorApi.Reply audit = api.get("audit", query);
        if (!audit.ok()) {
            return new Answer(can, List.of(), audit.error());
        }
        Map<String, int[]> counts = new TreeMap<>();
        Map<String, String> last = new TreeMap<>();
        for (JsonNode record : audit.json().path("records")) {
            if (!record.path("action").asText().equals("secret.read")) {
                continue;
            }
            String key = record.path("client").asText("(unauthenticated)") + "\u0000" + record.path("secret").asText();
            int[] c = counts.computeIfAbsent(key, k -> new int[2]);
            c[record.path("outcome").asText().equals("allowed") ? 0 : 1]++;
            last.put(key, AuditView.shortTime(record.path("time").asText("")));
        }
        List<Reads> reads = new ArrayList<>();
        counts.forEach((key, c) -> {
            String[] parts = key.split("\u0000", 2);
            reads.add(new Reads(parts[0], parts[1], c[0], c[1], last.get(key)));
        });
        return new Answer(can, reads, null);
    }

    /** Cytoscape elements: one node per client, group and secret; edges for memberships and grants. */
    String graphJson(Estate estate) {
        ArrayNode elements = json.createArrayNode();
        estate.clients().forEach(c -> node(elements, "client:" + c, c, "client"));
        estate.groups().forEach(g -> node(elements, "group:" + g, g, "group"));
        estate.secrets().forEach(s -> node(elements, "secret:" + s, s, "secret"));
        java.util.Set<String> edges = new java.util.HashSet<>();
        for (Path p : estate.paths()) {
            if (p.client() != null && edges.add("m" + p.client() + "\u0000" + p.group())) {
                edge(elements, "client:" + p.client(), "group:" + p.group(), p.role());
            }
            if (p.secret() != null && edges.add("g" + p.group() + "\u0000" + p.secret())) {
                edge(elements, "group:" + p.group(), "secret:" + p.secret(), "grant");
            }
        }
        try {
            // Goes into a data- attribute, which the template escapes like any other value.
            return json.writeValueAsString(elements);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot serialise the graph", e);
        }
    }

    private static void node(ArrayNode elements, String id, String label, String kind) {
        ObjectNode data = elements.addObject().putObject("data");
        data.put("id", id).put("label", label).put("kind", kind);
    }

    private static void edge(ArrayNode elements, String source, String target, String label) {
        ObjectNode data = elements.addObject().putObject("data");
        data.put("id", source + "->" + target).put("source", source).put("target", target).put("label", label);
    }
}
