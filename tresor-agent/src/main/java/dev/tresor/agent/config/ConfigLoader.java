package dev.tresor.agent.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code agent.yaml} into an {@link AgentConfig}. Every error names the line and the field
 * ({@code agent.yaml: line 9: secrets[0].mode: '0999' is not an octal file mode}); unknown fields
 * and keys given twice are refused, because a typo must not silently fall back to a default.
 * Relative paths are resolved against the config file's folder.
 */
public final class ConfigLoader {

    static final Set<String> TOP = Set.of("server", "failover", "credentials", "destination", "secrets", "templates", "reload", "exec",
            "debounce", "keepOnRevoke", "watchWait", "pollInterval", "backoff", "requestTimeout", "status");
    static final Set<String> CREDENTIALS = Set.of("cert", "key", "ca", "dir", "renew");
    static final Set<String> SECRET = Set.of("secret", "version", "label", "file", "mode", "owner", "group", "env");
    static final Set<String> TEMPLATE = Set.of("file", "template", "templateFile", "secrets", "mode", "owner", "group", "env");
    static final Set<String> BINDING = Set.of("secret", "version", "label", "as");
    static final Set<String> RELOAD = Set.of("command", "signal", "pid", "pidFile", "timeout");
    static final Set<String> EXEC = Set.of("onChange", "signal", "stopTimeout");
    static final Set<String> BACKOFF = Set.of("min", "max");
    static final Set<String> STATUS = Set.of("file", "listen");
    static final Set<String> SIGNALS = Set.of("HUP", "INT", "QUIT", "USR1", "USR2", "TERM", "WINCH", "CONT", "ALRM");

    private final YamlDocument doc;
    private final Path base;

    private ConfigLoader(YamlDocument doc, Path base) {
        this.doc = doc;
        this.base = base;
    }

    /** @throws IllegalArgumentException naming the file, the line and the field */
    public static AgentConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + file + " cannot be read: " + e.getMessage());
        }
        try {
            return parse(text, file.toAbsolutePath().getParent());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static AgentConfig parse(String yaml, Path base) {
        return new ConfigLoader(YamlDocument.parse(yaml), base).config();
    }

    private AgentConfig config() {
        JsonNode root = doc.root();
        if (root == null || !root.isObject()) {
            throw new ConfigException(1, "expected a mapping with destination:, secrets: and/or templates:");
        }
        known(root, TOP, "");
        URI server = root.has("server") ? server(text(root, "server", "")) : null;
        AgentConfig.CredentialsSpec credentials = credentials(object(root, "credentials", "", true));
        if (server == null && !(credentials instanceof AgentConfig.Directory)) {
            throw error("server", "is required (https://HOST:PORT) unless credentials.dir records it");
        }
        Path destination = base.resolve(required(root, "destination", "")).normalize();
        List<Output> outputs = new ArrayList<>();
        JsonNode secrets = list(root, "secrets");
        for (int i = 0; i < secrets.size(); i++) {
            outputs.add(raw(secrets.get(i), "secrets[" + i + "]"));
        }
        JsonNode templates = list(root, "templates");
        for (int i = 0; i < templates.size(); i++) {
            outputs.add(template(templates.get(i), "templates[" + i + "]"));
        }
        if (outputs.isEmpty()) {
            throw error("secrets", "give at least one entry under secrets: or templates:");
        }
        Set<String> files = new HashSet<>();
        Set<String> envs = new HashSet<>();
        for (int i = 0; i < outputs.size(); i++) {
            FileOptions o = outputs.get(i).options();
            String at = i < secrets.size() ? "secrets[" + i + "]" : "templates[" + (i - secrets.size()) + "]";
            if (o.file() != null && !files.add(o.file())) {
                throw error(at + ".file", "'" + o.file() + "' is already written by another entry");
            }
            if (o.env() != null && !envs.add(o.env())) {
                throw error(at + ".env", "'" + o.env() + "' is already set by another entry");
            }
        }
        AgentConfig.ReloadSpec reload = root.has("reload") ? reload(object(root, "reload", "", true)) : null;
        AgentConfig.ExecSpec exec = root.has("exec") ? exec(object(root, "exec", "", true)) : AgentConfig.ExecSpec.DEFAULT;
        JsonNode backoff = root.has("backoff") ? object(root, "backoff", "", true) : null;
        if (backoff != null) {
            known(backoff, BACKOFF, "backoff.");
        }
        Duration minBackoff = positive(backoff, "min", "backoff.", Duration.ofMillis(500));
        Duration maxBackoff = positive(backoff, "max", "backoff.", Duration.ofSeconds(30));
        if (maxBackoff.compareTo(minBackoff) < 0) {
            throw error("backoff.max", "must not be shorter than backoff.min");
        }
        Duration watchWait = positive(root, "watchWait", "", Duration.ofSeconds(30));
        if (watchWait.compareTo(Duration.ofMinutes(10)) > 0) {
            throw error("watchWait", "at most 10m (the server caps it at watch.maxWait anyway)");
        }
        Duration debounce = duration(root, "debounce", "", Duration.ofMillis(200));
        if (debounce.isNegative()) {
            throw error("debounce", "must not be negative");
        }
        return new AgentConfig(server, credentials, destination, outputs, reload, exec, debounce,
                bool(root, "keepOnRevoke", "", false), watchWait, positive(root, "pollInterval", "", Duration.ofSeconds(30)),
                minBackoff, maxBackoff, positive(root, "requestTimeout", "", Duration.ofSeconds(15)),
                root.has("status") ? status(object(root, "status", "", true)) : AgentConfig.StatusSpec.NONE,
                failover(root));
    }

    /** {@code failover: [https://b:8443, ...]}: further nodes, each checked like {@code server}. */
    private List<URI> failover(JsonNode root) {
        if (!root.has("failover")) {
            return List.of();
        }
        JsonNode list = root.get("failover");
        if (!list.isArray()) {
            throw error("failover", "must be a list of https://HOST:PORT addresses");
        }
        List<URI> nodes = new java.util.ArrayList<>();
        for (JsonNode entry : list) {
            if (!entry.isTextual()) {
                throw error("failover", "must be a list of https://HOST:PORT addresses");
            }
            nodes.add(server(entry.asText(), "failover"));
        }
        return nodes;
    }

    private URI server(String text) {
        return server(text, "server");
    }

    private URI server(String text, String field) {
        try {
            URI uri = URI.create(text);
            if (!"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw error(field, "'" + text + "' is not https://HOST:PORT");
            }
            return uri;
        } catch (IllegalArgumentException e) {
            if (e instanceof ConfigException c) {
                throw c;
            }
            throw error(field, "'" + text + "' is not a URL such as https://tresor.internal:8443");
        }
    }

    private AgentConfig.CredentialsSpec credentials(JsonNode node) {
        known(node, CREDENTIALS, "credentials.");
        if (node.has("dir")) {
            for (String f : List.of("cert", "key", "ca")) {
                if (node.has(f)) {
                    throw error("credentials." + f, "give either credentials.dir or cert/key/ca files, not both");
                }
            }
            Path dir = base.resolve(text(node, "dir", "credentials.")).normalize();
            if (!Files.isDirectory(dir)) {
                throw error("credentials.dir", "folder " + dir + " does not exist (make it with tresor cert join)");
            }
            return new AgentConfig.Directory(dir, bool(node, "renew", "credentials.", true));
        }
        if (node.has("renew")) {
            throw error("credentials.renew", "only with credentials.dir (PEM files are reloaded when they change instead)");
        }
        return new AgentConfig.Files(file(node, "cert", "credentials."), file(node, "key", "credentials."),
                file(node, "ca", "credentials."));
    }

    private Output raw(JsonNode node, String at) {
        requireObject(node, at);
        known(node, SECRET, at + ".");
        SecretRef ref = ref(node, at);
        return new Output.Raw(ref, options(node, at, true));
    }

    private Output template(JsonNode node, String at) {
        requireObject(node, at);
        known(node, TEMPLATE, at + ".");
        String source;
        String where;
        if (node.has("template") == node.has("templateFile")) {
            throw error(at, "give exactly one of template (inline text) or templateFile");
        }
        if (node.has("template")) {
            source = text(node, "template", at + ".");
            where = at + ".template";
        } else {
            Path file = file(node, "templateFile", at + ".");
            try {
                source = Files.readString(file);
            } catch (IOException e) {
                throw error(at + ".templateFile", "cannot read " + file + ": " + e.getMessage());
            }
            where = file.toString();
        }
        JsonNode vars = object(node, "secrets", at + ".", true);
        Map<String, Output.Binding> bindings = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : vars.properties()) {
            String vat = at + ".secrets." + e.getKey();
            if (!e.getKey().matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw error(vat, "'" + e.getKey() + "' is not a template variable name ([A-Za-z_][A-Za-z0-9_]*)");
            }
            JsonNode v = e.getValue();
            if (v.isTextual()) {
                bindings.put(e.getKey(), new Output.Binding(ref(v.asText(), null, null, vat), false));
                continue;
            }
            requireObject(v, vat);
            known(v, BINDING, vat + ".");
            boolean json = switch (v.has("as") ? text(v, "as", vat + ".") : "text") {
                case "text" -> false;
                case "json" -> true;
                default -> throw error(vat + ".as", "'" + v.get("as").asText() + "' is not 'text' or 'json'");
            };
            bindings.put(e.getKey(), new Output.Binding(ref(v, vat), json));
        }
        if (bindings.isEmpty()) {
            throw error(at + ".secrets", "name at least one secret the template reads, e.g. db: {secret: openemr/db, as: json}");
        }
        Output.Template template = new Output.Template(source, where, bindings, options(node, at, false));
        try {
            dev.tresor.agent.render.TemplateRenderer.check(template);
        } catch (IllegalArgumentException e) {
            throw error(at + (node.has("template") ? ".template" : ".templateFile"), e.getMessage());
        }
        return template;
    }

    private SecretRef ref(JsonNode node, String at) {
        Integer version = null;
        if (node.has("version")) {
            JsonNode v = node.get("version");
            if (!v.canConvertToInt() || !v.isIntegralNumber()) {
                throw error(at + ".version", "expected a version number");
            }
            version = v.asInt();
        }
        return ref(required(node, "secret", at + "."), version,
                node.has("label") ? text(node, "label", at + ".") : null, at);
    }

    private SecretRef ref(String name, Integer version, String label, String at) {
        try {
            return new SecretRef(name, version, label);
        } catch (IllegalArgumentException e) {
            throw error(at, e.getMessage());
        }
    }

    private FileOptions options(JsonNode node, String at, boolean raw) {
        String p = at + ".";
        try {
            return new FileOptions(node.has("file") ? text(node, "file", p) : null,
                    node.has("mode") ? mode(node, p) : null,
                    node.has("owner") ? text(node, "owner", p) : null,
                    node.has("group") ? text(node, "group", p) : null,
                    node.has("env") ? text(node, "env", p) : null);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw error(node.has("file") ? p + "file" : at, e.getMessage());
        }
    }

    private Set<java.nio.file.attribute.PosixFilePermission> mode(JsonNode node, String p) {
        try {
            return FileOptions.parseMode(text(node, "mode", p));
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw error(p + "mode", e.getMessage() + " (quote it: mode: \"0440\")");
        }
    }

    private AgentConfig.ReloadSpec reload(JsonNode node) {
        known(node, RELOAD, "reload.");
        List<String> command = new ArrayList<>();
        if (node.has("command")) {
            JsonNode c = node.get("command");
            if (c.isTextual()) {
                command.addAll(List.of("/bin/sh", "-c", c.asText()));
            } else if (c.isArray() && !c.isEmpty()) {
                for (JsonNode word : c) {
                    if (!word.isValueNode()) {
                        throw error("reload.command", "every word must be a string");
                    }
                    command.add(word.asText());
                }
            } else {
                throw error("reload.command", "expected a shell command line or a list of words");
            }
        }
        String signal = node.has("signal") ? signal(text(node, "signal", "reload."), "reload.signal") : null;
        Long pid = null;
        if (node.has("pid")) {
            JsonNode v = node.get("pid");
            if (!v.isIntegralNumber() || v.asLong() < 2) {
                throw error("reload.pid", "expected a process id (2 or more)");
            }
            pid = v.asLong();
        }
        Path pidFile = node.has("pidFile") ? base.resolve(text(node, "pidFile", "reload.")).normalize() : null;
        if (signal != null && pid == null && pidFile == null) {
            throw error("reload.signal", "needs reload.pid or reload.pidFile (the process to signal)");
        }
        if (signal == null && (pid != null || pidFile != null)) {
            throw error(pid != null ? "reload.pid" : "reload.pidFile", "needs reload.signal (which signal to send)");
        }
        if (pid != null && pidFile != null) {
            throw error("reload.pidFile", "give either reload.pid or reload.pidFile");
        }
        if (command.isEmpty() && signal == null) {
            throw error("reload", "give a command, or a signal with pid/pidFile");
        }
        return new AgentConfig.ReloadSpec(command, signal, pid, pidFile, positive(node, "timeout", "reload.",
                Duration.ofSeconds(30)));
    }

    private AgentConfig.ExecSpec exec(JsonNode node) {
        known(node, EXEC, "exec.");
        boolean restart = switch (node.has("onChange") ? text(node, "onChange", "exec.") : "restart") {
            case "restart" -> true;
            case "signal" -> false;
            default -> throw error("exec.onChange", "'" + node.get("onChange").asText() + "' is not 'restart' or 'signal'");
        };
        String signal = node.has("signal") ? signal(text(node, "signal", "exec."), "exec.signal") : restart ? "TERM" : null;
        if (signal == null) {
            throw error("exec.signal", "onChange: signal needs the signal to send, e.g. signal: HUP");
        }
        return new AgentConfig.ExecSpec(restart, signal, positive(node, "stopTimeout", "exec.", Duration.ofSeconds(10)));
    }

    private AgentConfig.StatusSpec status(JsonNode node) {
        known(node, STATUS, "status.");
        Path file = node.has("file") ? base.resolve(text(node, "file", "status.")).normalize() : null;
        String host = null;
        int port = -1;
        if (node.has("listen")) {
            String listen = text(node, "listen", "status.");
            Matcher m = Pattern.compile("(127\\.0\\.0\\.1|localhost|\\[::1]|0\\.0\\.0\\.0):(\\d{1,5})").matcher(listen);
            if (!m.matches() || Integer.parseInt(m.group(2)) > 65535) {
                throw error("status.listen", "'" + listen + "' is not HOST:PORT (127.0.0.1:PORT; port 0 picks one)");
            }
            host = m.group(1).replace("[", "").replace("]", "");
            port = Integer.parseInt(m.group(2));
        }
        if (file == null && port < 0) {
            throw error("status", "give status.file and/or status.listen");
        }
        return new AgentConfig.StatusSpec(file, host, port);
    }

    private String signal(String text, String field) {
        String name = text.toUpperCase(Locale.ROOT).replaceFirst("^SIG", "");
        if (!SIGNALS.contains(name)) {
            throw error(field, "'" + text + "' is not one of " + SIGNALS.stream().sorted().toList());
        }
        return name;
    }

    // ---- small typed readers; each error names the line and the field ----

    private ConfigException error(String field, String message) {
        return new ConfigException(doc.line(field), field + ": " + message);
    }

    private void known(JsonNode node, Set<String> fields, String at) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!fields.contains(name)) {
                throw error(at + name, "unknown field; known fields here are " + fields.stream().sorted().toList());
            }
        }
    }

    private void requireObject(JsonNode node, String at) {
        if (node == null || !node.isObject()) {
            throw error(at, "expected a mapping");
        }
    }

    private JsonNode object(JsonNode node, String field, String at, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw error(at + field, "is required");
            }
            return null;
        }
        if (!v.isObject()) {
            throw error(at + field, "expected a mapping");
        }
        return v;
    }

    private JsonNode list(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
        }
        if (!v.isArray()) {
            throw error(field, "expected a list");
        }
        return v;
    }

    private String required(JsonNode node, String field, String at) {
        if (!node.hasNonNull(field)) {
            throw error(at + field, "is required");
        }
        return text(node, field, at);
    }

    private String text(JsonNode node, String field, String at) {
        JsonNode v = node.get(field);
        if (v == null || !v.isValueNode() || v.isNull() || v.asText().isEmpty()) {
            throw error(at + field, "expected a non-empty value");
        }
        return v.asText();
    }

    private boolean bool(JsonNode node, String field, String at, boolean fallback) {
        if (node == null || !node.has(field)) {
            return fallback;
        }
        JsonNode v = node.get(field);
        if (!v.isBoolean()) {
            throw error(at + field, "expected true or false");
        }
        return v.asBoolean();
    }

    private Path file(JsonNode node, String field, String at) {
        Path path = base.resolve(required(node, field, at)).normalize();
        if (!Files.isRegularFile(path)) {
            throw error(at + field, "file " + path + " does not exist");
        }
        return path;
    }

    private Duration duration(JsonNode node, String field, String at, Duration fallback) {
        if (node == null || !node.has(field)) {
            return fallback;
        }
        String text = text(node, field, at);
        Matcher m = Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(text);
        if (!m.matches()) {
            throw error(at + field, "'" + text + "' is not a duration such as 250ms, 30s, 5m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private Duration positive(JsonNode node, String field, String at, Duration fallback) {
        Duration d = duration(node, field, at, fallback);
        if (d.isZero() || d.isNegative()) {
            throw error(at + field, "must be positive");
        }
        return d;
    }
}
