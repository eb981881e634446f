package dev.tresor.tunnel.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.model.Durations;
import dev.tresor.tunnel.tls.AllowList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads {@code tunnels.yaml} (see docs/tunnel.md). Every error names the field, e.g.
 * {@code tunnels[1].listen: '3307' is not HOST:PORT}. Unknown fields are refused (a typo must
 * not silently fall back to a default). Relative paths are resolved against the file's folder.
 */
public final class ConfigFile {

    private static final Set<String> TOP_FIELDS = Set.of("management", "drainTimeout", "reloadInterval", "threads", "tunnels");
    private static final Set<String> TUNNEL_FIELDS = Set.of("name", "mode", "listen", "target", "allow", "expect", "cert",
            "key", "caBundle", "crl", "connectTimeout", "handshakeTimeout", "idleTimeout", "maxConnections", "identity",
            "failover");

    private ConfigFile() {}

    /** @throws IllegalArgumentException naming the file and field */
    public static TunnelsConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + file + " cannot be read: " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        try {
            return parse(text, base);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static TunnelsConfig parse(String yaml, Path base) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("expected a mapping with 'tunnels:' at the top");
        }
        unknownFields(root, TOP_FIELDS, "");
        HostPort management = root.has("management") ? HostPort.parse("management", text(root, "management", "")) : null;
        Duration drain = duration(root, "drainTimeout", "", TunnelsConfig.DEFAULT_DRAIN_TIMEOUT);
        Duration reload = duration(root, "reloadInterval", "", TunnelsConfig.DEFAULT_RELOAD_INTERVAL);
        if (reload.isZero() || reload.isNegative()) {
            throw new IllegalArgumentException("reloadInterval must be positive");
        }
        JsonNode list = root.get("tunnels");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("tunnels: a list of at least one tunnel is required");
        }
        List<TunnelSpec> tunnels = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            tunnels.add(tunnel(list.get(i), "tunnels[" + i + "].", base, i));
        }
        TunnelsConfig.Threads threads = TunnelsConfig.Threads.PLATFORM;
        if (root.has("threads")) {
            String t = text(root, "threads", "").toLowerCase(Locale.ROOT);
            threads = switch (t) {
                case "virtual" -> TunnelsConfig.Threads.VIRTUAL;
                case "platform" -> TunnelsConfig.Threads.PLATFORM;
                default -> throw new IllegalArgumentException("threads: '" + t + "' is not 'virtual' or 'platform'");
            };
        }
        return new TunnelsConfig(management, drain, reload, threads, tunnels);
    }

    private static TunnelSpec tunnel(JsonNode node, String at, Path base, int index) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(at.substring(0, at.length() - 1) + ": expected a mapping");
        }
        unknownFields(node, TUNNEL_FIELDS, at);
        String modeText = required(node, "mode", at).toLowerCase(Locale.ROOT);
        Mode mode = switch (modeText) {
            case "server" -> Mode.SERVER;
            case "client" -> Mode.CLIENT;
            default -> throw new IllegalArgumentException(at + "mode: '" + modeText + "' is not 'server' or 'client'");
        };
        String peersField = mode == Mode.SERVER ? "allow" : "expect";
        String wrongField = mode == Mode.SERVER ? "expect" : "allow";
        if (node.has(wrongField)) {
            throw new IllegalArgumentException(at + wrongField + ": a " + modeText + " tunnel takes '" + peersField
                    + "' (" + (mode == Mode.SERVER ? "identities allowed to connect" : "identities the server must have") + ")");
        }
        AllowList peers = AllowList.parse(at + peersField, strings(node, peersField, at));
        String name = node.has("name") ? text(node, "name", at) : modeText + "-" + index;
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException(at + "name: '" + name + "' may only contain [A-Za-z0-9._-] (1-64 characters)");
        }
        Path identity = null;
        if (node.hasNonNull("identity")) {
            if (node.has("cert") || node.has("key")) {
                throw new IllegalArgumentException(at + "identity: give either identity (a folder the tunnel renews) or "
                        + "cert and key (files renewed by something else), not both");
            }
            identity = base.resolve(text(node, "identity", at)).normalize();
            if (!Files.isDirectory(identity)) {
                throw new IllegalArgumentException(at + "identity: " + identity + " is not a folder; make it with tresor cert "
                        + "join --profile workload --out " + identity);
            }
        }
        List<java.net.URI> failover = List.of();
        if (node.has("failover")) {
            if (identity == null) {
                throw new IllegalArgumentException(at + "failover: only a tunnel with identity: (a folder it renews "
                        + "through Tresor) uses Tresor nodes");
            }
            failover = servers(at + "failover", strings(node, "failover", at));
        }
        int max = TunnelSpec.DEFAULT_MAX_CONNECTIONS;
        if (node.has("maxConnections")) {
            JsonNode value = node.get("maxConnections");
            if (!value.isInt() || value.asInt() < 1) {
                throw new IllegalArgumentException(at + "maxConnections: expected a whole number of at least 1");
            }
            max = value.asInt();
        }
        return new TunnelSpec(name, mode,
                HostPort.parse(at + "listen", required(node, "listen", at)),
                HostPort.parse(at + "target", required(node, "target", at)),
                peers,
                identity == null ? file(node, "cert", at, base, true) : identity.resolve("cert.pem"),
                identity == null ? file(node, "key", at, base, true) : identity.resolve("key.pem"),
                identity != null && !node.has("caBundle") ? identity.resolve("ca.pem") : file(node, "caBundle", at, base, true),
                file(node, "crl", at, base, false),
                positive(duration(node, "connectTimeout", at, TunnelSpec.DEFAULT_CONNECT_TIMEOUT), at + "connectTimeout"),
                positive(duration(node, "handshakeTimeout", at, TunnelSpec.DEFAULT_HANDSHAKE_TIMEOUT), at + "handshakeTimeout"),
                positive(duration(node, "idleTimeout", at, TunnelSpec.DEFAULT_IDLE_TIMEOUT), at + "idleTimeout"),
                max, identity, failover);
    }

    /** Each entry checked as in {@code TRESOR_ADDR}; a single string may list several, comma-separated. */
    public static List<java.net.URI> servers(String field, List<String> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException(field + ": expected one or more https://HOST:PORT addresses");
        }
        try {
            return dev.tresor.client.api.ServerAddresses.parse(String.join(",", entries)).nodes();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    private static Duration positive(Duration d, String field) {
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(field + " must be positive");
        }
        return d;
    }

    private static void unknownFields(JsonNode node, Set<String> known, String at) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new IllegalArgumentException(at + name + ": unknown field; known fields are "
                        + known.stream().sorted().toList());
            }
        }
    }

    private static String required(JsonNode node, String field, String at) {
        if (!node.hasNonNull(field)) {
            throw new IllegalArgumentException(at + field + " is required");
        }
        return text(node, field, at);
    }

    private static String text(JsonNode node, String field, String at) {
        JsonNode value = node.get(field);
        if (value == null || !value.isValueNode() || value.isNull()) {
            throw new IllegalArgumentException(at + field + ": expected a single value");
        }
        return value.asText();
    }

    private static List<String> strings(JsonNode node, String field, String at) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (value.isValueNode()) {
            return List.of(value.asText());
        }
        if (!value.isArray()) {
            throw new IllegalArgumentException(at + field + ": expected an identity or a list of identities");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isValueNode()) {
                throw new IllegalArgumentException(at + field + ": every entry must be an identity string");
            }
            out.add(item.asText());
        }
        return out;
    }

    private static Duration duration(JsonNode node, String field, String at, Duration fallback) {
        return node.has(field) ? Durations.parse(at + field, text(node, field, at)) : fallback;
    }

    private static Path file(JsonNode node, String field, String at, Path base, boolean required) {
        if (!node.hasNonNull(field)) {
            if (required) {
                throw new IllegalArgumentException(at + field + " is required (a PEM file)");
            }
            return null;
        }
        Path path = base.resolve(text(node, field, at)).normalize();
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(at + field + ": file " + path + " does not exist");
        }
        return path;
    }
}
