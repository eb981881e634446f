package dev.tresor.mesh.render;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes manifests as commented YAML with sorted keys. Jackson's YAML writer cannot emit
 * comments, so each document is written alone and its comment put above it.
 */
public final class ManifestWriter {

    private final ObjectMapper yaml = new YAMLMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            // "3306" in an AuthorizationPolicy's ports must stay a string; unquoted it would read back as a number.
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .build())
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /** One multi-document stream, in the given (apply) order. */
    public String toYaml(List<Manifest> manifests) {
        StringBuilder out = new StringBuilder();
        for (Manifest m : manifests) {
            out.append(document(m));
        }
        return out.toString();
    }

    /** {@code ---}, the comment lines, the object. */
    public String document(Manifest m) {
        StringBuilder out = new StringBuilder("---\n");
        out.append("# ").append(m.kind()).append(' ').append(m.name()).append(": ").append(m.comment()).append('\n');
        try {
            out.append(yaml.writeValueAsString(m.body()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + m.kind() + " " + m.name(), e);
        }
        return out.toString();
    }

    /**
     * One file per object, numbered in apply order ({@code 07-networkpolicy-default-deny.yaml}).
     * Returns the files written; other files in {@code dir} are left alone.
     */
    public List<Path> writeFiles(List<Manifest> manifests, Path dir) throws IOException {
        Files.createDirectories(dir);
        int width = Integer.toString(manifests.size()).length();
        List<Path> written = new java.util.ArrayList<>();
        for (int i = 0; i < manifests.size(); i++) {
            Manifest m = manifests.get(i);
            String file = String.format(Locale.ROOT, "%0" + Math.max(2, width) + "d-%s-%s.yaml", i + 1,
                    m.kind().toLowerCase(Locale.ROOT), m.name());
            Path path = dir.resolve(file);
            Files.writeString(path, document(m), StandardCharsets.UTF_8);
            written.add(path);
        }
        return written;
    }
}
