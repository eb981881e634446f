package dev.tresor.access;

import java.util.Base64;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The ACL head's list of every client row and that row's MAC. A client row counts only if it
 * is listed here with exactly its MAC: a deleted client's old row put back, or a row copied from
 * an older backup, verifies on its own but is not the listed one and so is refused.
 *
 * <p>Encoding: {@code name:base64(mac)} joined by ','; client names cannot contain ':' or ','.
 */
record Registry(SortedMap<String, String> macsByClient) {

    Registry {
        macsByClient = Collections.unmodifiableSortedMap(new TreeMap<>(macsByClient));
    }

    static Registry empty() {
        return new Registry(new TreeMap<>());
    }

    static Registry parse(String text) {
        SortedMap<String, String> map = new TreeMap<>();
        if (text != null && !text.isEmpty()) {
            for (String entry : text.split(",", -1)) {
                int colon = entry.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("malformed registry entry");
                }
                map.put(entry.substring(0, colon), entry.substring(colon + 1));
            }
        }
        return new Registry(map);
    }

    String encode() {
        StringBuilder out = new StringBuilder();
        macsByClient.forEach((name, mac) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(name).append(':').append(mac);
        });
        return out.toString();
    }

    boolean lists(String client, byte[] mac) {
        String listed = macsByClient.get(client);
        return listed != null && java.security.MessageDigest.isEqual(
                listed.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                Base64.getEncoder().encodeToString(mac).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    Registry with(String client, byte[] mac) {
        SortedMap<String, String> map = new TreeMap<>(macsByClient);
        map.put(client, Base64.getEncoder().encodeToString(mac));
        return new Registry(map);
    }

    Registry without(String client) {
        SortedMap<String, String> map = new TreeMap<>(macsByClient);
        map.remove(client);
        return new Registry(map);
    }

    Map<String, String> asMap() {
        return macsByClient;
    }
}
