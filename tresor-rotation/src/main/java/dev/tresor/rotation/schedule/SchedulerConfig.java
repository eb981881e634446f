package dev.tresor.rotation.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.RotationConfigLoader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * What {@code tresor server --rotations FILE} schedules:
 * <pre>
 * identity:              # the scheduler's own Tresor client identity (write role on the rotation secrets)
 *   cert: rotation.crt
 *   key: rotation.key
 *   ca: ca.crt
 * address: https://localhost:7443   # optional; default: this server's API
 * definitions:           # rotation definitions, each with a schedule
 *   - openemr.yaml
 * </pre>
 */
public record SchedulerConfig(Path cert, Path key, Path ca, URI address, List<RotationConfig> definitions) {

    public static SchedulerConfig load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw error(file + ": cannot read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw error(file + " must be a mapping with identity and definitions");
        }
        only(root, file, "", Set.of("identity", "address", "definitions"));
        Path base = file.toAbsolutePath().getParent();
        JsonNode identity = root.path("identity");
        if (!identity.isObject()) {
            throw error(file.getFileName() + ": identity is required (cert, key, ca of the scheduler's Tresor client)");
        }
        only(identity, file, "identity.", Set.of("cert", "key", "ca"));
        Path cert = path(identity, "cert", base, file);
        Path key = path(identity, "key", base, file);
        Path ca = path(identity, "ca", base, file);
        URI address = null;
        if (root.hasNonNull("address")) {
            address = URI.create(root.get("address").asText());
            if (!"https".equals(address.getScheme())) {
                throw error(file.getFileName() + ": address must be https://HOST:PORT");
            }
        }
        JsonNode list = root.path("definitions");
        if (!list.isArray() || list.isEmpty()) {
            throw error(file.getFileName() + ": definitions is required and must be a non-empty list of rotation files");
        }
        List<RotationConfig> definitions = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            RotationConfig c = RotationConfigLoader.load(base.resolve(list.get(i).asText()));
            if (c.schedule() == null) {
                throw error(file.getFileName() + ": definitions[" + i + "] (" + c.source() + ") has no schedule");
            }
            definitions.add(c);
        }
        return new SchedulerConfig(cert, key, ca, address, definitions);
    }

    private static void only(JsonNode node, Path file, String prefix, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw error(file.getFileName() + ": " + prefix + f + " is not a known field; allowed: " + allowed);
            }
        }
    }

    private static Path path(JsonNode node, String field, Path base, Path file) {
        if (!node.hasNonNull(field)) {
            throw error(file.getFileName() + ": identity." + field + " is required");
        }
        Path p = base.resolve(node.get(field).asText()).normalize();
        if (!Files.isReadable(p)) {
            throw error(file.getFileName() + ": identity." + field + " " + p + " does not exist or is not readable");
        }
        return p;
    }

    private static RotationException error(String message) {
        return new RotationException(RotationException.Kind.CONFIG, message);
    }
}
