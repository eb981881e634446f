package dev.tresor.mesh.render;

import java.util.Map;

/**
 * One rendered Kubernetes object.
 *
 * @param kind    its kind (also its position in apply order, see {@link Renderer})
 * @param name    metadata.name
 * @param comment why the object exists, written above it in the YAML
 * @param body    the object as nested maps and lists, ready for a YAML or JSON writer
 */
public record Manifest(String kind, String name, String comment, Map<String, Object> body) {

    public Manifest {
        body = java.util.Collections.unmodifiableMap(body);
    }

    @SuppressWarnings("unchecked")
    public String namespace() {
        Object ns = ((Map<String, Object>) body.get("metadata")).get("namespace");
        return ns == null ? null : ns.toString();
    }

    public String apiVersion() {
        return body.get("apiVersion").toString();
    }
}
