package dev.tresor.mesh.render;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The minimal CRD schemas of {@code src/test/resources/dev/tresor/mesh/schema} (see its README), made
 * strict as {@code kubectl apply --validate=strict} is (unknown fields refused; apiVersion, kind,
 * metadata.name and, for namespaced kinds, metadata.namespace required) and compiled with networknt's
 * OpenAPI 3.0 dialect, the dialect of CRD schemas.
 */
public final class CrdSchemas {

    static final List<String> FILES = List.of("peerauthentication", "authorizationpolicy", "sidecar",
            "servicemeshcontrolplane", "servicemeshmemberroll", "egressfirewall");

    /** One kind: its strict schema as JSON (for walking its required fields) and compiled. */
    record KindSchema(String apiVersion, String kind, ObjectNode strict, Schema compiled) {}

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    private static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

    private final Map<String, KindSchema> byKind = new TreeMap<>();

    public CrdSchemas() {
        SchemaRegistry registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi30());
        for (String file : FILES) {
            JsonNode crd = read("/dev/tresor/mesh/schema/" + file + ".crd.yaml");
            JsonNode spec = crd.path("spec");
            if (spec.path("versions").size() != 1) {
                throw new IllegalStateException(file + ": expected exactly the one version tresor renders");
            }
            JsonNode version = spec.path("versions").get(0);
            String apiVersion = spec.path("group").asText() + "/" + version.path("name").asText();
            String kind = spec.path("names").path("kind").asText();
            ObjectNode strict = strictRoot((ObjectNode) version.path("schema").path("openAPIV3Schema"), apiVersion, kind,
                    "Namespaced".equals(spec.path("scope").asText()));
            byKind.put(kind, new KindSchema(apiVersion, kind, strict, registry.getSchema(strict)));
        }
    }

    public Set<String> kinds() {
        return byKind.keySet();
    }

    KindSchema of(String kind) {
        KindSchema schema = byKind.get(kind);
        if (schema == null) throw new IllegalArgumentException("no schema for kind " + kind);
        return schema;
    }

    /** Every violation as {@code /json/pointer: message}; empty when the object is valid. */
    public List<String> validate(JsonNode object) {
        return validate(object.path("kind").asText(), object);
    }

    /** As {@link #validate(JsonNode)}, against the schema of {@code kind} whatever the object says (it may lack its kind). */
    public List<String> validate(String kind, JsonNode object) {
        return of(kind).compiled().validate(object).stream()
                .map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }

    private static JsonNode read(String resource) {
        try (InputStream in = CrdSchemas.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing test resource " + resource);
            return YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode strictRoot(ObjectNode crdSchema, String apiVersion, String kind, boolean namespaced) {
        ObjectNode root = crdSchema.deepCopy();
        ObjectNode properties = root.withObjectProperty("properties");
        properties.set("apiVersion", NODES.objectNode().put("type", "string").set("enum", NODES.arrayNode().add(apiVersion)));
        properties.set("kind", NODES.objectNode().put("type", "string").set("enum", NODES.arrayNode().add(kind)));
        properties.set("metadata", objectMeta(properties.path("metadata").path("properties").path("name"), namespaced));
        Set<String> required = new LinkedHashSet<>(List.of("apiVersion", "kind", "metadata"));
        root.path("required").forEach(r -> required.add(r.asText()));
        ArrayNode requiredNode = root.putArray("required");
        required.forEach(requiredNode::add);
        makeStrict(root);
        return root;
    }

    /** What the API server checks of every object's metadata, narrowed by the CRD's own name rule (EgressFirewall: "default"). */
    private static ObjectNode objectMeta(JsonNode crdName, boolean namespaced) {
        ObjectNode name = NODES.objectNode().put("type", "string").put("maxLength", 253).put("pattern", DNS_SUBDOMAIN);
        if (crdName.isObject()) {
            name.putArray("allOf").add(crdName.deepCopy());
        }
        ObjectNode meta = NODES.objectNode().put("type", "object");
        ObjectNode props = meta.putObject("properties");
        props.set("name", name);
        props.set("namespace", NODES.objectNode().put("type", "string").put("maxLength", 63).put("pattern", DNS_LABEL));
        props.set("labels", NODES.objectNode().put("type", "object")
                .set("additionalProperties", NODES.objectNode().put("type", "string").put("maxLength", 63)));
        props.set("annotations", NODES.objectNode().put("type", "object")
                .set("additionalProperties", NODES.objectNode().put("type", "string")));
        ArrayNode required = meta.putArray("required").add("name");
        if (namespaced) required.add("namespace");
        return meta;
    }

    /** Every object schema that lists its properties refuses others, unless it preserves unknown fields. */
    private static void makeStrict(ObjectNode schema) {
        if (schema.has("properties") && !schema.has("additionalProperties")
                && !schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
            schema.put("additionalProperties", false);
        }
        for (Iterator<JsonNode> it = schema.path("properties").elements(); it.hasNext(); ) {
            if (it.next() instanceof ObjectNode child) makeStrict(child);
        }
        if (schema.get("items") instanceof ObjectNode items) makeStrict(items);
        if (schema.get("additionalProperties") instanceof ObjectNode values) makeStrict(values);
        for (JsonNode sub : schema.path("allOf")) {
            if (sub instanceof ObjectNode o) makeStrict(o);
        }
    }
}
