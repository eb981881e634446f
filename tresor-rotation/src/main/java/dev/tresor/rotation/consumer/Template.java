package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A consumer file template: text with {@code {{field}}} or {@code {{field|filter}}} placeholders.
 * Fields: username, password, host, port, dbname, slot. Filters: {@code php} (inside a single-quoted
 * PHP string), {@code json} (inside a JSON string), {@code raw} (as is, the default). Anything else
 * is refused when the rotation definition is loaded, naming the line.
 */
public final class Template {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z_]+)\\s*(?:\\|\\s*([A-Za-z]+)\\s*)?}}");
    private static final Set<String> FIELDS = Set.of("username", "password", "host", "port", "dbname", "slot");
    private static final Set<String> FILTERS = Set.of("php", "json", "raw");

    private final String text;

    private Template(String text) {
        this.text = text;
    }

    /** Parses {@code text}; errors name {@code field} (the YAML field) and the line. */
    public static Template parse(String field, String text) {
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            int line = 1 + (int) text.substring(0, m.start()).chars().filter(c -> c == '\n').count();
            if (!FIELDS.contains(m.group(1))) {
                throw new IllegalArgumentException(field + " line " + line + ": unknown placeholder {{" + m.group(1)
                        + "}}; use one of " + new java.util.TreeSet<>(FIELDS));
            }
            if (m.group(2) != null && !FILTERS.contains(m.group(2))) {
                throw new IllegalArgumentException(field + " line " + line + ": unknown filter |" + m.group(2)
                        + "; use |php, |json or |raw");
            }
        }
        if (!text.contains("{{") || !PLACEHOLDER.matcher(text).find()) {
            throw new IllegalArgumentException(field + " has no placeholder such as {{username}} or {{password}}");
        }
        List<String> unclosed = new ArrayList<>();
        String stripped = PLACEHOLDER.matcher(text).replaceAll("");
        if (stripped.contains("{{")) {
            unclosed.add("{{");
        }
        if (!unclosed.isEmpty()) {
            int at = stripped.indexOf("{{");
            int line = 1 + (int) stripped.substring(0, at).chars().filter(c -> c == '\n').count();
            throw new IllegalArgumentException(field + " near line " + line + ": '{{' starts no valid placeholder"
                    + " (use {{field}} or {{field|filter}})");
        }
        return new Template(text);
    }

    public String render(DbCredentials c, Slot slot) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder(text.length() + 64);
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "username" -> c.username();
                case "password" -> c.password();
                case "host" -> c.host();
                case "port" -> Integer.toString(c.port());
                case "dbname" -> c.dbname();
                default -> slot.name();
            };
            String filter = m.group(2) == null ? "raw" : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(switch (filter) {
                case "php" -> value.replace("\\", "\\\\").replace("'", "\\'");
                case "json" -> json(value);
                default -> value;
            }));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String json(String value) {
        StringBuilder out = new StringBuilder();
        for (char ch : value.toCharArray()) {
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        out.append(String.format("\\u%04x", (int) ch));
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        return out.toString();
    }
}
