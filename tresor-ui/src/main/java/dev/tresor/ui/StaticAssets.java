package dev.tresor.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The console's stylesheet and script, read from this jar once at start: every asset is local, so
 * a page makes no request to anyone but the console. A fixed list, so no path from a request ever
 * reaches the class loader.
 */
final class StaticAssets {

    record Asset(String contentType, byte[] bytes) {}

    private static final Map<String, String> TYPES = Map.of(
            "console.css", "text/css; charset=utf-8",
            "console.js", "text/javascript; charset=utf-8",
            "access.js", "text/javascript; charset=utf-8",
            // Cytoscape.js, vendored with its MIT licence (vendor/cytoscape-LICENSE.txt), for the access graph.
            "vendor/cytoscape-3.35.0.min.js", "text/javascript; charset=utf-8",
            "vendor/cytoscape-LICENSE.txt", "text/plain; charset=utf-8");

    private final Map<String, Asset> assets;

    StaticAssets() {
        java.util.HashMap<String, Asset> loaded = new java.util.HashMap<>();
        for (Map.Entry<String, String> type : TYPES.entrySet()) {
            loaded.put("/static/" + type.getKey(), new Asset(type.getValue(), read(type.getKey())));
        }
        this.assets = Map.copyOf(loaded);
    }

    Optional<Asset> find(String path) {
        return Optional.ofNullable(assets.get(path));
    }

    private static byte[] read(String name) {
        try (InputStream in = StaticAssets.class.getResourceAsStream("static/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the console's asset " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
