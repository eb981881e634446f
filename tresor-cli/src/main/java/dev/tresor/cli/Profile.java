package dev.tresor.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A connection profile: a small YAML file of {@code addr}, {@code cert}, {@code key} and
 * {@code ca}, read with the same YAML library as every other config file here (Jackson's, on
 * SnakeYAML). Relative paths (and {@code ~/}) are resolved against the profile's folder and the
 * home folder, so a profile can live beside its certificates. Every error names the line.
 */
record Profile(Path file, Map<String, String> values) {

    static final Set<String> KEYS = Set.of("addr", "cert", "key", "ca");

    private static final YAMLFactory YAML = YAMLFactory.builder().build();

    static Profile load(Path file, Path home) {
        byte[] text;
        try {
            text = Files.readAllBytes(file);
        } catch (IOException e) {
            throw CliException.usage("cannot read profile " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> seen = new java.util.HashSet<>();
        try (JsonParser parser = YAML.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new Profile(file, Map.of());
            }
            if (first != JsonToken.START_OBJECT) {
                throw problem(file, parser, "expected 'key: value' lines (keys: addr, cert, key, ca)");
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
                String key = parser.currentName();
                if (!KEYS.contains(key)) {
                    throw problem(file, parser, "unknown key '" + key + "' (known keys: addr, cert, key, ca)");
                }
                if (!seen.add(key)) {
                    throw problem(file, parser, "'" + key + "' is given twice");
                }
                JsonToken value = parser.nextToken();
                if (value == JsonToken.VALUE_NULL) {
                    continue;
                }
                if (!value.isScalarValue()) {
                    throw problem(file, parser, "'" + key + "' must be a single value, e.g. " + key + ": "
                            + (key.equals("addr") ? "https://127.0.0.1:8443" : "./" + key + ".pem"));
                }
                String given = parser.getText().strip();
                if (!given.isEmpty()) {
                    values.put(key, key.equals("addr") ? given : resolvePath(given, file, home));
                }
            }
            if (parser.nextToken() != null) {
                throw problem(file, parser, "one document only (remove the second '---')");
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            throw CliException.usage("profile " + file + (line > 0 ? " line " + line : "") + ": not valid YAML: "
                    + e.getOriginalMessage().lines().findFirst().orElse("?"));
        } catch (IOException e) {
            throw CliException.usage("cannot read profile " + file + ": " + e.getMessage());
        }
        return new Profile(file, Map.copyOf(values));
    }

    private static CliException problem(Path file, JsonParser parser, String message) {
        return CliException.usage("profile " + file + " line " + parser.currentLocation().getLineNr() + ": " + message);
    }

    String get(String key) {
        return values.get(key);
    }

    private static String resolvePath(String value, Path profileFile, Path home) {
        if (value.equals("~") || value.startsWith("~/")) {
            return home.resolve(value.substring(Math.min(2, value.length()))).normalize().toString();
        }
        Path folder = profileFile.toAbsolutePath().getParent();
        return folder.resolve(value).normalize().toString();
    }
}
