package dev.tresor.mesh.check;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads Kubernetes objects from multi-document YAML: a string, a file, or every *.yaml/*.yml of a folder (sorted). */
public final class ManifestReader {

    private final ObjectMapper yaml = new YAMLMapper();

    public List<PolicyParser.Sourced> read(String text, String source) throws IOException {
        List<PolicyParser.Sourced> out = new ArrayList<>();
        try (MappingIterator<Map<String, Object>> docs = yaml.readerFor(new TypeReference<Map<String, Object>>() {}).readValues(text)) {
            int index = 0;
            while (docs.hasNextValue()) {
                Map<String, Object> doc = docs.nextValue();
                index++;
                if (doc != null && !doc.isEmpty()) {
                    out.add(new PolicyParser.Sourced(source + "#" + index, doc));
                }
            }
        }
        return out;
    }

    public List<PolicyParser.Sourced> read(Path fileOrDir) throws IOException {
        List<Path> files;
        if (Files.isDirectory(fileOrDir)) {
            try (Stream<Path> s = Files.list(fileOrDir)) {
                files = s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
            }
        } else {
            files = List.of(fileOrDir);
        }
        List<PolicyParser.Sourced> out = new ArrayList<>();
        for (Path f : files) out.addAll(read(Files.readString(f), f.getFileName().toString()));
        return out;
    }
}
