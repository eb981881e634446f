package dev.tresor.mesh.topology;

import java.util.List;
import java.util.Map;

/**
 * A YAML value with the line it starts on. Jackson's tree model drops locations, and every
 * topology error must name its line, so the loader builds this small tree from the parser's
 * {@link com.fasterxml.jackson.core.JsonLocation}s instead.
 */
sealed interface YamlNode {

    /** 1-based line of the value in the file. */
    int line();

    /** What the user wrote, for messages ("a list", "a mapping", "'abc'"). */
    String describe();

    record Scalar(String text, boolean isNull, int line) implements YamlNode {
        @Override
        public String describe() {
            return isNull ? "null" : "'" + text + "'";
        }
    }

    record Sequence(List<YamlNode> items, int line) implements YamlNode {
        @Override
        public String describe() {
            return "a list";
        }
    }

    /** Keys in file order; duplicate keys are refused while reading, so the map is faithful. */
    record Mapping(Map<String, YamlNode> entries, Map<String, Integer> keyLines, int line) implements YamlNode {
        @Override
        public String describe() {
            return "a mapping";
        }
    }
}
