package dev.tresor.server.bootstrap;

import dev.tresor.server.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Line edits of an operator's {@code tresor.yaml} made by Tresor itself (a new passphrase source,
 * a new HSM key label): only the named line changes, comments and layout stay, and the file is
 * replaced atomically with its permissions (the config may hold a password).
 */
public final class ConfigEdits {

    private ConfigEdits() {}

    /**
     * The config text with {@code keyProvider.<field>: value}: lines of the block naming
     * {@code field} or any of {@code replacing} are removed, and the new line follows the block's
     * last entry, so that comments and blank lines after the block stay where they were.
     */
    public static String withKeyProviderField(String yaml, String field, String value, String... replacing) {
        Set<String> drop = new java.util.HashSet<>(List.of(replacing));
        drop.add(field);
        List<String> lines = new ArrayList<>(List.of(yaml.split("\n", -1)));
        int block = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("keyProvider:\\s*(#.*)?")) {
                block = i;
                break;
            }
        }
        if (block < 0) {
            throw new ConfigException("keyProvider: no top-level 'keyProvider:' block found in the config");
        }
        String indent = null;
        int lastEntry = -1;
        for (int i = block + 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.trim().startsWith("#")) {
                continue;
            }
            String lead = line.substring(0, line.length() - line.stripLeading().length());
            if (lead.isEmpty()) {
                break;
            }
            if (indent == null) {
                indent = lead;
            }
            String trimmed = line.trim();
            int colon = trimmed.indexOf(':');
            if (lead.equals(indent) && colon > 0 && drop.contains(trimmed.substring(0, colon))) {
                lines.remove(i);
                i--;
                continue;
            }
            lastEntry = i;
        }
        if (indent == null || lastEntry < 0) {
            throw new ConfigException("keyProvider: the 'keyProvider:' block is empty");
        }
        lines.add(lastEntry + 1, indent + field + ": " + quoted(value));
        return String.join("\n", lines);
    }

    /**
     * The config text with its top-level {@code keyProvider:} block replaced by the one in
     * {@code spec} (a key provider spec, as {@code tresor key init} prints it: a {@code keyProvider:}
     * block and nothing else but comments). The rest of the config, comments and layout, stays.
     */
    public static String withKeyProviderBlock(String yaml, String spec) {
        List<String> specLines = List.of(spec.replace("\r\n", "\n").split("\n", -1));
        int[] from = block(specLines);
        if (from == null) {
            throw new ConfigException("the provider spec holds no top-level 'keyProvider:' block; give one as tresor key "
                    + "init prints it (keyProvider: / kind: local|pkcs11|awskms / ...)");
        }
        for (int i = 0; i < specLines.size(); i++) {
            String line = specLines.get(i);
            if ((i < from[0] || i >= from[1]) && !line.isBlank() && !line.trim().startsWith("#")) {
                throw new ConfigException("the provider spec holds more than a keyProvider block (line " + (i + 1) + ": '"
                        + line.strip() + "'); give only the keyProvider block");
            }
        }
        List<String> replacement = new ArrayList<>(specLines.subList(from[0], from[1]));
        if (replacement.size() < 2) {
            throw new ConfigException("the provider spec's keyProvider block is empty; it needs at least kind: "
                    + "local|pkcs11|awskms");
        }
        List<String> lines = new ArrayList<>(List.of(yaml.split("\n", -1)));
        int[] old = block(lines);
        if (old == null) {
            throw new ConfigException("keyProvider: no top-level 'keyProvider:' block found in the config");
        }
        lines.subList(old[0], old[1]).clear(); // comments and blank lines after the block stay
        lines.addAll(old[0], replacement);
        return String.join("\n", lines);
    }

    /** The lines [start, end) of the top-level keyProvider block (its header and indented lines), or null. */
    private static int[] block(List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("keyProvider:\\s*(#.*)?")) {
                int end = i + 1;
                for (int j = i + 1; j < lines.size(); j++) {
                    String line = lines.get(j);
                    if (line.isBlank() || line.startsWith("#")) {
                        continue; // belongs to the block only if an indented line follows
                    }
                    if (!Character.isWhitespace(line.charAt(0))) {
                        break;
                    }
                    end = j + 1;
                }
                return new int[] {i, end};
            }
        }
        return null;
    }

    private static String quoted(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Replaces {@code file} by {@code text} atomically, keeping its permissions. */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(file));
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
