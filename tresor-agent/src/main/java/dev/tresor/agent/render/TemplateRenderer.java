package dev.tresor.agent.render;

import dev.tresor.agent.config.Output;
import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.extension.AbstractExtension;
import io.pebbletemplates.pebble.extension.Filter;
import io.pebbletemplates.pebble.loader.StringLoader;
import io.pebbletemplates.pebble.template.EvaluationContext;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Pebble templates over secrets. Each variable is a secret: its text, or (with {@code as: json})
 * its parsed JSON, so {@code {{ db[db.active_slot].password | php }}} reaches the rotation slot
 * secret's active credentials. Filters for the places a secret is pasted into: {@code php}
 * (single-quoted PHP string), {@code json} (inside a JSON string), {@code shell} (a single-quoted
 * shell word, quotes included), {@code base64}; nothing is HTML-escaped, and an unknown variable
 * or field is an error (strict), never an empty string in a config file.
 */
public final class TemplateRenderer {

    private final PebbleTemplate compiled;

    private TemplateRenderer(PebbleTemplate compiled) {
        this.compiled = compiled;
    }

    /** Compiles the template; {@link IllegalArgumentException} names the line of a syntax error. */
    public static TemplateRenderer compile(Output.Template template) {
        try {
            return new TemplateRenderer(engine().getTemplate(template.source()));
        } catch (PebbleException e) {
            throw new IllegalArgumentException("line " + e.getLineNumber() + " of the template: " + e.getPebbleMessage());
        }
    }

    /** Fails at config load, not at the first render, for a template that does not parse. */
    public static void check(Output.Template template) {
        compile(template);
    }

    /**
     * Renders with {@code values} (variable → String or parsed JSON).
     *
     * @throws IllegalArgumentException naming the line when the template reaches a field a secret does not have
     */
    public String render(Map<String, Object> values) {
        StringWriter out = new StringWriter();
        try {
            compiled.evaluate(out, values);
        } catch (PebbleException e) {
            // The message names the attribute and the line; Pebble does not put values in it.
            throw new IllegalArgumentException("line " + e.getLineNumber() + " of the template: " + e.getPebbleMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /**
     * One engine per template: the template's text is its name for the string loader, so a shared
     * engine's cache would hold every template text (and nothing else needs sharing).
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
                        return Map.of("php", new TextFilter(TemplateRenderer::php), "json", new TextFilter(TemplateRenderer::json),
                                "shell", new TextFilter(TemplateRenderer::shell),
                                "base64", new TextFilter(v -> Base64.getEncoder().encodeToString(
                                        v.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
                    }
                })
                .build();
    }

    private record TextFilter(UnaryOperator<String> apply) implements Filter {
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

    static String php(String value) {
        return value.replace("\\", "\\\\").replace("'", "\\'");
    }

    static String shell(String value) {
        return "'" + value.replace("'", "'\"'\"'") + "'";
    }

    static String json(String value) {
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
