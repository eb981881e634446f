package dev.tresor.secrets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.model.Names;
import dev.tresor.model.TresorException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** A version's free-form metadata: a small string map stored as JSON with sorted keys. */
final class Metadata {

    static final int MAX_ENTRIES = 64;
    static final int MAX_KEY = 128;
    static final int MAX_VALUE = 4096;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Metadata() {}

    static SortedMap<String, String> validate(Map<String, String> metadata) {
        SortedMap<String, String> sorted = new TreeMap<>();
        if (metadata == null) {
            return sorted;
        }
        if (metadata.size() > MAX_ENTRIES) {
            throw TresorException.badRequest("metadata has " + metadata.size() + " entries; at most " + MAX_ENTRIES + " are allowed");
        }
        metadata.forEach((k, v) -> {
            if (k == null || k.isEmpty() || k.length() > MAX_KEY) {
                throw TresorException.badRequest("metadata keys must be 1-" + MAX_KEY + " characters");
            }
            if (v == null || v.length() > MAX_VALUE) {
                throw TresorException.badRequest("metadata value of '" + Names.printable(k) + "' must be a string of at most "
                        + MAX_VALUE + " characters");
            }
            sorted.put(k, v);
        });
        return sorted;
    }

    static String toJson(SortedMap<String, String> metadata) {
        try {
            return JSON.writeValueAsString(metadata);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> fromJson(String json) {
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<String, String>>() {});
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }
}
