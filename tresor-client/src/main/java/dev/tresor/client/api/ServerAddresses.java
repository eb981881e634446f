package dev.tresor.client.api;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * The nodes of one Tresor cluster, in the order a client tries them. Every node serves every
 * request (SPEC §3.6), so the list is only a preference: the first one that answers wins.
 */
public record ServerAddresses(List<URI> nodes) {

    public ServerAddresses {
        if (nodes == null || nodes.isEmpty()) {
            throw new IllegalArgumentException("at least one server address is needed (https://HOST:PORT)");
        }
        nodes = List.copyOf(nodes.stream().map(ServerAddresses::normalise).toList());
    }

    public static ServerAddresses of(URI... nodes) {
        return new ServerAddresses(List.of(nodes));
    }

    /** {@code first}, then each of {@code more} that is not already listed (a config's {@code failover:} after its server). */
    public static ServerAddresses of(URI first, List<URI> more) {
        List<URI> all = new ArrayList<>(List.of(normalise(first)));
        for (URI uri : more) {
            URI node = normalise(uri);
            if (!all.contains(node)) {
                all.add(node);
            }
        }
        return new ServerAddresses(all);
    }

    /**
     * {@code https://a:8443,https://b:8443}: a comma-separated list, as in {@code TRESOR_ADDR}.
     * Each entry must be an absolute https URI with a host; the message names the entry at fault.
     */
    public static ServerAddresses parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("no server address given: expected https://HOST:PORT[,https://HOST2:PORT...]");
        }
        List<URI> nodes = new ArrayList<>();
        for (String entry : text.split(",")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                throw new IllegalArgumentException("empty entry in server address list '" + text + "'");
            }
            URI uri;
            try {
                uri = URI.create(trimmed);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + trimmed + "' is not a URI: expected https://HOST:PORT");
            }
            if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("'" + trimmed + "' must be https://HOST:PORT (Tresor speaks only mutual TLS)");
            }
            nodes.add(uri);
        }
        return new ServerAddresses(nodes);
    }

    public URI first() {
        return nodes.getFirst();
    }

    public int size() {
        return nodes.size();
    }

    /** Without a trailing slash, so {@code base + "/v1/..."} never doubles it. */
    private static URI normalise(URI uri) {
        String text = uri.toString();
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '/') {
            end--;
        }
        return end == text.length() ? uri : URI.create(text.substring(0, end));
    }

    @Override
    public String toString() {
        return String.join(",", nodes.stream().map(URI::toString).toList());
    }
}
