package dev.tresor.agent.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * A YAML file as a tree plus the line of every field and list item, so that any error can say
 * where to look ({@code line 12: templates[0].secrets.db.secrt: unknown field}). Jackson's tree
 * keeps no locations, so the file is read twice: once as tokens for the lines, once as a tree.
 * A key given twice is refused (it would otherwise silently win), naming the line.
 */
final class YamlDocument {

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final JsonNode root;
    private final Map<String, Integer> lines;

    private YamlDocument(JsonNode root, Map<String, Integer> lines) {
        this.root = root;
        this.lines = lines;
    }

    static YamlDocument parse(String text) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser parser = FACTORY.createParser(text)) {
            // The path of the value being read: field names and [index] segments.
            Deque<String> path = new ArrayDeque<>();
            Deque<int[]> arrayIndex = new ArrayDeque<>();
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                switch (token) {
                    case FIELD_NAME -> {
                        String name = parser.currentName();
                        String prefix = path.isEmpty() ? "" : path.peek();
                        String at = prefix.isEmpty() ? name : prefix + "." + name;
                        lines.put(at, parser.currentTokenLocation().getLineNr());
                        path.push(at);
                        JsonToken value = parser.nextToken();
                        startValue(value, path, arrayIndex);
                    }
                    case START_OBJECT, START_ARRAY, VALUE_STRING, VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT, VALUE_TRUE,
                         VALUE_FALSE, VALUE_NULL, VALUE_EMBEDDED_OBJECT -> {
                        // A list item (or the root).
                        if (!arrayIndex.isEmpty() && path.size() == arrayIndex.peek()[1]) {
                            int index = arrayIndex.peek()[0]++;
                            String at = path.peek() + "[" + index + "]";
                            lines.put(at, parser.currentTokenLocation().getLineNr());
                            path.push(at);
                            startValue(token, path, arrayIndex);
                        } else if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                            path.push("");
                            startValue(token, path, arrayIndex);
                        }
                    }
                    case END_OBJECT -> endValue(path, arrayIndex);
                    case END_ARRAY -> {
                        arrayIndex.pop();
                        endValue(path, arrayIndex);
                    }
                    default -> { }
                }
            }
        } catch (JacksonException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            String message = e.getOriginalMessage();
            if (message.startsWith("Duplicate field")) {
                message = message.replace("Duplicate field", "field") + " is given twice";
            }
            throw new ConfigException(line, message);
        } catch (IOException e) {
            throw new ConfigException(0, e.getMessage());
        }
        JsonNode root;
        try {
            root = new ObjectMapper(FACTORY).readTree(text);
        } catch (IOException e) {
            throw new ConfigException(0, e.getMessage());
        }
        return new YamlDocument(root, lines);
    }

    /** After a value token was read at {@code path.peek()}: scalars end at once, containers open. */
    private static void startValue(JsonToken value, Deque<String> path, Deque<int[]> arrayIndex) {
        if (value == JsonToken.START_ARRAY) {
            arrayIndex.push(new int[] {0, path.size()});
        } else if (value != JsonToken.START_OBJECT) {
            path.pop();
        }
    }

    private static void endValue(Deque<String> path, Deque<int[]> arrayIndex) {
        if (!path.isEmpty()) {
            path.pop();
        }
    }

    JsonNode root() {
        return root;
    }

    /** The line of {@code path} (e.g. {@code secrets[1].file}), or of its nearest parent that has one; 0 if none. */
    int line(String path) {
        String at = path;
        while (!at.isEmpty()) {
            Integer line = lines.get(at);
            if (line != null) {
                return line;
            }
            int cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
            at = cut < 0 ? "" : at.substring(0, cut);
        }
        return 0;
    }
}
