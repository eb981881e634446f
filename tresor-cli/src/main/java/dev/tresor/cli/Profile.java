package dev.tresor.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A connection profile: a small YAML file of {@code addr}, {@code cert}, {@code key} and
 * {@code ca}. Only flat {@code key: value} lines are read; a full YAML parser would cost every
 * command start-up time for four strings. Relative paths (and {@code ~/}) are resolved against
 * the profile's folder and the home folder, so a profile can live beside its certificates.
 */
record Profile(Path file, Map<String, String> values) {

    static final Set<String> KEYS = Set.of("addr", "cert", "key", "ca");

    static Profile load(Path file, Path home) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw CliException.usage("cannot read profile " + file + ": " + e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        int lineNumber = 0;
        for (String raw : text.split("\\R")) {
            lineNumber++;
            String line = stripComment(raw).strip();
            if (line.isEmpty() || line.equals("---")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw CliException.usage("profile " + file + " line " + lineNumber + ": expected 'key: value' (keys: addr, cert, key, ca)");
            }
            String key = line.substring(0, colon).strip();
            if (!KEYS.contains(key)) {
                throw CliException.usage("profile " + file + " line " + lineNumber + ": unknown key '" + key
                        + "' (known keys: addr, cert, key, ca)");
            }
            String value = unquote(line.substring(colon + 1).strip());
            if (!value.isEmpty()) {
                values.put(key, key.equals("addr") ? value : resolvePath(value, file, home));
            }
        }
        return new Profile(file, Map.copyOf(values));
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

    /** A '#' starts a comment only outside quotes and after whitespace, as in YAML (so 'a#b' stays). */
    private static String stripComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
