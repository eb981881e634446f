package dev.tresor.mesh.check;

import dev.tresor.mesh.topology.Port;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The verdicts of every evaluated connection, and what is wrong. A verdict is null when its
 * layer was not evaluated.
 */
public record CheckReport(String namespace, Set<Layer> layers, List<Row> pairs, List<Row> egress,
                          List<String> globalProblems, List<String> notes) {

    public CheckReport {
        layers = Set.copyOf(layers);
        pairs = List.copyOf(pairs);
        egress = List.copyOf(egress);
        globalProblems = List.copyOf(globalProblems);
        notes = List.copyOf(notes);
    }

    /**
     * One connection. For in-namespace pairs {@code second} is the AuthorizationPolicy verdict;
     * for egress it is the EgressFirewall's.
     */
    public record Row(String source, String destination, Port port, boolean intended, Boolean first, Boolean second,
                      String problem) {

        public boolean allowed() {
            return !Boolean.FALSE.equals(first) && !Boolean.FALSE.equals(second);
        }
    }

    public boolean ok() {
        return globalProblems.isEmpty() && pairs.stream().allMatch(r -> r.problem() == null)
                && egress.stream().allMatch(r -> r.problem() == null);
    }

    public List<String> problems() {
        List<String> all = new ArrayList<>(globalProblems);
        for (Row r : pairs) if (r.problem() != null) all.add(r.source() + " -> " + r.destination() + ":" + r.port() + ": " + r.problem());
        for (Row r : egress) if (r.problem() != null) all.add(r.source() + " -> egress " + r.destination() + ":" + r.port() + ": " + r.problem());
        return all;
    }

    /** {@code source -> destination:port} of every pair every evaluated layer allows. */
    public Set<String> allowedPairs() {
        return pairs.stream().filter(Row::allowed).map(r -> r.source() + " -> " + r.destination() + ":" + r.port())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The reachability matrix, the egress table and the verdict, as printed by {@code tresor mesh check}. */
    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("Layers evaluated: ").append(layers.stream().sorted().map(Layer::label).collect(Collectors.joining(", "))).append('\n');
        if (!pairs.isEmpty()) {
            List<String> sources = pairs.stream().map(Row::source).distinct().toList();
            // Columns in the order the rows list them (workloads first), then any destination that never sends.
            List<String> destinations = new ArrayList<>(sources.stream()
                    .filter(s -> pairs.stream().anyMatch(r -> r.destination().equals(s))).toList());
            pairs.stream().map(Row::destination).distinct().filter(d -> !destinations.contains(d)).forEach(destinations::add);
            Map<String, Map<String, List<String>>> cells = new LinkedHashMap<>();
            for (Row r : pairs) {
                List<String> cell = cells.computeIfAbsent(r.source(), k -> new LinkedHashMap<>())
                        .computeIfAbsent(r.destination(), k -> new ArrayList<>());
                if (r.allowed()) cell.add(r.port().toString());
            }
            out.append("\nReachability in namespace ").append(namespace)
                    .append(" (rows: sources, columns: destinations; ports every evaluated layer allows):\n");
            int first = Math.max(8, sources.stream().mapToInt(String::length).max().orElse(8)) + 2;
            List<Integer> widths = new ArrayList<>();
            for (String d : destinations) {
                int w = d.length();
                for (String s : sources) w = Math.max(w, cellText(cells, s, d).length());
                widths.add(w + 2);
            }
            out.append(pad("source", first));
            for (int i = 0; i < destinations.size(); i++) out.append(pad(destinations.get(i), widths.get(i)));
            out.append('\n');
            for (String s : sources) {
                out.append(pad(s, first));
                for (int i = 0; i < destinations.size(); i++) out.append(pad(cellText(cells, s, destinations.get(i)), widths.get(i)));
                out.append('\n');
            }
        }
        if (!egress.isEmpty()) {
            out.append("\nEgress (destination, port: sources allowed by every evaluated layer):\n");
            Map<String, List<String>> allowedFrom = new LinkedHashMap<>();
            int destinationWidth = egress.stream().mapToInt(r -> r.destination().length()).max().orElse(10) + 2;
            for (Row r : egress) {
                List<String> from = allowedFrom.computeIfAbsent(pad(r.destination(), destinationWidth) + r.port(), k -> new ArrayList<>());
                if (r.allowed()) from.add(r.source());
            }
            int width = allowedFrom.keySet().stream().mapToInt(String::length).max().orElse(10) + 2;
            allowedFrom.forEach((k, v) -> out.append("  ").append(pad(k, width)).append(v.isEmpty() ? "-" : String.join(", ", v)).append('\n'));
        }
        for (String note : notes) out.append("\nnote: ").append(note);
        if (!notes.isEmpty()) out.append('\n');
        List<String> problems = problems();
        if (problems.isEmpty()) {
            out.append(String.format(Locale.ROOT, "%nOK: default-deny with exactly the topology's edges (%d connections checked).%n",
                    pairs.size() + egress.size()));
        } else {
            out.append("\nFAILED: ").append(problems.size()).append(" problem(s):\n");
            for (String p : problems) out.append("  ").append(p).append('\n');
        }
        return out.toString();
    }

    private static String cellText(Map<String, Map<String, List<String>>> cells, String source, String destination) {
        List<String> ports = cells.getOrDefault(source, Map.of()).getOrDefault(destination, List.of());
        return ports.isEmpty() ? "-" : String.join(",", ports);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }
}
