package dev.tresor.rotation.consumer;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.error.RootAttributeNotFoundException;
import io.pebbletemplates.pebble.extension.AbstractExtension;
import io.pebbletemplates.pebble.extension.Filter;
import io.pebbletemplates.pebble.loader.StringLoader;
import io.pebbletemplates.pebble.template.EvaluationContext;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A consumer file template, rendered by Pebble: {@code {{ field }}} or {@code {{ field | filter }}}.
 * Fields: username, password, host, port, dbname, slot. Filters: {@code php} (inside a single-quoted
 * PHP string), {@code json} (inside a JSON string), {@code raw} (as is, the default), and Pebble's
 * own. Nothing is HTML-escaped. An unknown field or filter is refused when the rotation definition
 * is loaded (a trial render with stand-in values), naming the line.
 */
public final class Template {

    private static final List<String> FIELDS = List.of("username", "password", "host", "port", "dbname", "slot");

    private final PebbleTemplate compiled;

    private Template(PebbleTemplate compiled) {
        this.compiled = compiled;
    }

    /** Parses {@code text}; errors name {@code field} (the YAML field) and the line. */
    public static Template parse(String field, String text) {
        if (!text.contains("{{")) {
            throw new IllegalArgumentException(field + " has no placeholder such as {{username}} or {{password}}");
        }
        Template template;
        try {
            template = new Template(engine().getTemplate(text));
            template.render(Map.of("username", "u", "password", "p", "host", "h", "port", "1", "dbname", "d", "slot", "a"));
        } catch (RootAttributeNotFoundException e) {
            throw new IllegalArgumentException(field + " line " + e.getLineNumber() + ": unknown placeholder {{"
                    + e.getAttributeName() + "}}; use one of " + new TreeSet<>(FIELDS));
        } catch (PebbleException e) {
            throw new IllegalArgumentException(field + " line " + e.getLineNumber() + ": " + e.getPebbleMessage()
                    + " (use {{field}} or {{field|filter}}; filters: php, json, raw)");
        }
        return template;
    }

    public String render(DbCredentials c, Slot slot) {
        return render(Map.of("username", c.username(), "password", c.password(), "host", c.host(),
                "port", Integer.toString(c.port()), "dbname", c.dbname(), "slot", slot.name()));
    }

    private String render(Map<String, Object> values) {
        StringWriter out = new StringWriter();
        try {
            compiled.evaluate(out, values);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /**
     * One engine per template: a template's text is its name for the string loader, so a shared
     * engine's cache would keep every template (and nothing else needs sharing).
     */
    private static PebbleEngine engine() {
        return new PebbleEngine.Builder()
                .loader(new StringLoader())
                .autoEscaping(false)
                .strictVariables(true)
                .newLineTrimming(false)
                .cacheActive(false)
                .extension(new AbstractExtension() {
                    @Override
                    public Map<String, Filter> getFilters() {
                        return Map.of("php", new TextFilter(Template::php), "json", new TextFilter(Template::json));
                    }
                })
                .build();
    }

    /** A filter of one string to another. */
    private record TextFilter(java.util.function.UnaryOperator<String> apply) implements Filter {
        @Override
        public List<String> getArgumentNames() {
            return List.of();
        }

        @Override
        public Object apply(Object input, Map<String, Object> args, PebbleTemplate self, EvaluationContext context,
                            int lineNumber) {
            return input == null ? null : apply.apply(input.toString());
        }
    }

    private static String php(String value) {
        return value.replace("\\", "\\\\").replace("'", "\\'");
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
