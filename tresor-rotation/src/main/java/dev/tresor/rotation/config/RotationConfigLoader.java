package dev.tresor.rotation.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.model.Durations;
import dev.tresor.model.Names;
import dev.tresor.model.TresorException;
import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.consumer.Template;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a rotation definition (YAML). Every field is checked; an error names the field (e.g.
 * {@code consumers[1].mode}) and what to write instead. Unknown fields are errors too, so a typo
 * never silently drops a setting. Relative paths are relative to the definition's folder.
 */
public final class RotationConfigLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern USER_HOST = Pattern.compile("[A-Za-z0-9.%_:-]{1,255}");
    private static final Pattern MODE = Pattern.compile("0?[0-7]{3}");
    private static final Pattern POSIX_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,31}|[0-9]+");
    private static final Set<String> MARIADB_PRIVILEGES = Set.of("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP",
            "ALTER", "INDEX", "REFERENCES", "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "CREATE VIEW", "SHOW VIEW",
            "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "TRIGGER");
    private static final Map<String, Set<String>> POSTGRES_PRIVILEGES = Map.of(
            "database", Set.of("CONNECT", "TEMPORARY", "CREATE"),
            "schema", Set.of("USAGE", "CREATE"),
            "all tables in schema", Set.of("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
            "all sequences in schema", Set.of("USAGE", "SELECT", "UPDATE"));

    private RotationConfigLoader() {}

    public static RotationConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw config("cannot read rotation definition " + file + ": " + e.getMessage());
        }
        return parse(text, file.toAbsolutePath());
    }

    public static RotationConfig parse(String yaml, Path source) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (IOException e) {
            String msg = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw config(source + " is not valid YAML: " + msg);
        }
        if (root == null || !root.isObject()) {
            throw config(source + " must be a YAML mapping with name, target, secrets, consumers");
        }
        Path base = source.getParent() == null ? Path.of(".") : source.getParent();
        Node top = new Node(root, "", source);
        top.only("name", "target", "secrets", "consumers", "validation", "timeouts", "schedule", "timeZone", "kubernetes");
        String name = top.requiredText("name");
        try {
            Names.simple("rotation", name);
        } catch (TresorException e) {
            throw top.error("name", "must be 1-64 letters, digits, '.', '_' or '-'");
        }
        TargetConfig target = target(top.requiredObject("target"), base);
        Node secrets = top.requiredObject("secrets");
        secrets.only("slots", "admin");
        String slots = secretName(secrets, "slots");
        String admin = secretName(secrets, "admin");
        if (slots.equals(admin)) {
            throw secrets.error("admin", "must be another secret than secrets.slots");
        }
        List<ConsumerConfig> consumers = new ArrayList<>();
        List<Node> consumerNodes = top.requiredList("consumers");
        for (Node c : consumerNodes) {
            consumers.add(consumer(c, base));
        }
        if (consumers.stream().allMatch(c -> c instanceof ConsumerConfig.HttpCheck || c instanceof ConsumerConfig.KubernetesRollout)) {
            throw top.error("consumers", "needs at least one file, command or kubernetes-secret consumer: otherwise the"
                    + " application never learns the new credentials");
        }
        Validation validation = new Validation("SELECT 1", true);
        Node v = top.optionalObject("validation");
        if (v != null) {
            v.only("sql", "fatal");
            String sql = v.optionalText("sql");
            if (sql != null && sql.isBlank()) {
                throw v.error("sql", "must not be empty (omit it for SELECT 1)");
            }
            validation = new Validation(sql == null ? "SELECT 1" : sql.strip(), v.bool("fatal", true));
        }
        Timeouts timeouts = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(10));
        Node t = top.optionalObject("timeouts");
        if (t != null) {
            t.only("connect", "appReady", "drain");
            timeouts = new Timeouts(t.duration("connect", timeouts.connect(), false),
                    t.duration("appReady", timeouts.appReady(), false), t.duration("drain", timeouts.drain(), true));
        }
        String schedule = top.optionalText("schedule");
        String zoneName = top.optionalText("timeZone");
        java.time.ZoneId timeZone = java.time.ZoneOffset.UTC;
        if (zoneName != null) {
            if (schedule == null) {
                throw top.error("timeZone", "applies to a schedule; add schedule: \"0 3 * * *\" or remove timeZone");
            }
            try {
                timeZone = java.time.ZoneId.of(zoneName);
            } catch (java.time.DateTimeException e) {
                throw top.error("timeZone", "'" + zoneName + "' is not a time zone; use a region such as Europe/Berlin, "
                        + "America/New_York or UTC");
            }
        }
        if (schedule != null) {
            try {
                dev.tresor.rotation.schedule.CronSchedule.parse(schedule).next(java.time.ZonedDateTime.now(timeZone));
            } catch (IllegalArgumentException e) {
                throw top.error("schedule", "must be a 5-field cron expression such as \"0 3 * * 0\" (minute hour day month"
                        + " weekday): " + e.getMessage());
            }
        }
        KubernetesSettings kubernetes = null;
        Node k = top.optionalObject("kubernetes");
        if (k != null) {
            k.only("kubeconfig", "context");
            String file = k.optionalText("kubeconfig");
            Path kubeconfig = file == null ? null : base.resolve(file).normalize();
            if (kubeconfig != null && !Files.isReadable(kubeconfig)) {
                throw k.error("kubeconfig", "file " + kubeconfig + " does not exist or is not readable");
            }
            kubernetes = new KubernetesSettings(kubeconfig, k.optionalText("context"));
        }
        return new RotationConfig(name, target, slots, admin, consumers, validation, timeouts, schedule, timeZone, kubernetes, source);
    }

    private static String secretName(Node n, String field) {
        String value = n.requiredText(field);
        try {
            return Names.secret(value);
        } catch (TresorException e) {
            throw n.error(field, e.getMessage());
        }
    }

    private static TargetConfig target(Node t, Path base) {
        t.only("kind", "tls", "userHost", "role", "grants");
        String kindText = t.requiredText("kind");
        TargetKind kind = switch (kindText.toLowerCase(Locale.ROOT)) {
            case "mariadb" -> TargetKind.MARIADB;
            case "mysql" -> TargetKind.MYSQL;
            case "postgresql", "postgres" -> TargetKind.POSTGRESQL;
            default -> throw t.error("kind", "must be mariadb, mysql or postgresql, not '" + kindText + "'");
        };
        TlsMode mode = TlsMode.REQUIRE;
        Path ca = null;
        Node tls = t.optionalObject("tls");
        if (tls != null) {
            tls.only("mode", "ca");
            String m = tls.optionalText("mode");
            if (m != null) {
                mode = switch (m.toLowerCase(Locale.ROOT)) {
                    case "disable" -> TlsMode.DISABLE;
                    case "require" -> TlsMode.REQUIRE;
                    case "verify-ca" -> TlsMode.VERIFY_CA;
                    case "verify-full" -> TlsMode.VERIFY_FULL;
                    default -> throw tls.error("mode", "must be require, verify-ca, verify-full or disable, not '" + m + "'");
                };
            }
            String caText = tls.optionalText("ca");
            if (caText != null) {
                ca = base.resolve(caText).normalize();
                if (!Files.isReadable(ca)) {
                    throw tls.error("ca", "file " + ca + " does not exist or is not readable");
                }
            }
        }
        if ((mode == TlsMode.VERIFY_CA || mode == TlsMode.VERIFY_FULL) && ca == null) {
            throw t.error("tls.ca", "is required for tls.mode " + mode.wireName() + " (the database server's CA certificate, PEM)");
        }
        String userHost = t.optionalText("userHost");
        if (userHost == null) {
            userHost = "%";
        } else if (kind == TargetKind.POSTGRESQL) {
            throw t.error("userHost", "applies to mariadb/mysql only; remove it");
        } else if (!USER_HOST.matcher(userHost).matches()) {
            throw t.error("userHost", "must be a MariaDB host pattern such as % or 10.0.%");
        }
        String role = t.requiredText("role");
        if (!IDENT.matcher(role).matches()) {
            throw t.error("role", "must be 1-63 letters, digits or '_' starting with a letter or '_'");
        }
        List<Grant> grants = new ArrayList<>();
        List<Node> grantNodes = t.requiredList("grants");
        for (Node g : grantNodes) {
            grants.add(grant(g, kind));
        }
        return new TargetConfig(kind, mode, ca, userHost, role, grants);
    }

    private static Grant grant(Node g, TargetKind kind) {
        g.only("privileges", "on");
        String on = g.requiredText("on").trim().replaceAll("\\s+", " ");
        List<String> privileges = new ArrayList<>();
        for (Node p : g.requiredList("privileges")) {
            if (!p.node.isTextual()) {
                throw config(p.path + " must be a privilege name such as SELECT");
            }
            privileges.add(p.node.asText().trim().replaceAll("\\s+", " ").toUpperCase(Locale.ROOT));
        }
        if (kind == TargetKind.POSTGRESQL) {
            String lower = on.toLowerCase(Locale.ROOT);
            String type;
            String object;
            if (lower.equals("database")) {
                type = "database";
                object = null;
            } else if (lower.startsWith("all tables in schema ")) {
                type = "all tables in schema";
                object = on.substring("all tables in schema ".length());
            } else if (lower.startsWith("all sequences in schema ")) {
                type = "all sequences in schema";
                object = on.substring("all sequences in schema ".length());
            } else if (lower.startsWith("schema ")) {
                type = "schema";
                object = on.substring("schema ".length());
            } else {
                throw g.error("on", "must be 'database', 'schema NAME', 'all tables in schema NAME' or"
                        + " 'all sequences in schema NAME' for postgresql");
            }
            if (object != null && !IDENT.matcher(object).matches()) {
                throw g.error("on", "schema name '" + object + "' must be 1-63 letters, digits or '_'");
            }
            for (String p : privileges) {
                if (!POSTGRES_PRIVILEGES.get(type).contains(p)) {
                    throw g.error("privileges", "'" + p + "' is not a privilege on " + type + "; allowed: "
                            + new java.util.TreeSet<>(POSTGRES_PRIVILEGES.get(type)));
                }
            }
            return new Grant(privileges, object == null ? type : type + " " + object);
        }
        if (!on.equals("*") && !IDENT.matcher(on).matches()) {
            throw g.error("on", "must be * (every table of the slot's database) or one table name; global (*.*) and"
                    + " cross-database grants are not allowed (least privilege)");
        }
        for (String p : privileges) {
            if (!MARIADB_PRIVILEGES.contains(p)) {
                throw g.error("privileges", "'" + p + "' is not allowed; use table/database privileges from "
                        + new java.util.TreeSet<>(MARIADB_PRIVILEGES) + " (no ALL, GRANT OPTION or global privileges)");
            }
        }
        return new Grant(privileges, on);
    }

    private static ConsumerConfig consumer(Node c, Path base) {
        String kind = c.requiredText("kind");
        return switch (kind) {
            case "file" -> {
                c.only("kind", "path", "template", "templateFile", "mode", "owner", "group");
                Path path = base.resolve(c.requiredText("path")).normalize();
                String inline = c.optionalText("template");
                String file = c.optionalText("templateFile");
                if ((inline == null) == (file == null)) {
                    throw c.error("template", "give exactly one of template (inline text) or templateFile (a path)");
                }
                String text = inline;
                Path templateSource = null;
                String field = c.path + ".template";
                if (file != null) {
                    templateSource = base.resolve(file).normalize();
                    field = c.path + ".templateFile (" + templateSource + ")";
                    try {
                        text = Files.readString(templateSource, StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw c.error("templateFile", "cannot read " + templateSource + ": " + e.getMessage());
                    }
                }
                try {
                    Template.parse(field, text);
                } catch (IllegalArgumentException e) {
                    throw config(e.getMessage());
                }
                String mode = c.optionalText("mode");
                if (mode == null) {
                    mode = "0600";
                } else if (!MODE.matcher(mode).matches()) {
                    throw c.error("mode", "must be an octal mode such as \"0640\" (quote it in YAML)");
                }
                String owner = c.optionalText("owner");
                if (owner != null && !POSIX_NAME.matcher(owner).matches()) {
                    throw c.error("owner", "must be a user name or numeric uid");
                }
                String group = c.optionalText("group");
                if (group != null && !POSIX_NAME.matcher(group).matches()) {
                    throw c.error("group", "must be a group name or numeric gid");
                }
                yield new ConsumerConfig.File(path, text, templateSource, mode.length() == 3 ? "0" + mode : mode, owner, group);
            }
            case "command" -> {
                c.only("kind", "command", "timeout");
                List<String> command = new ArrayList<>();
                for (Node part : c.requiredList("command")) {
                    if (!part.node.isValueNode() || part.node.asText().isEmpty()) {
                        throw config(part.path + " must be a non-empty string");
                    }
                    command.add(part.node.asText());
                }
                yield new ConsumerConfig.Command(command, c.duration("timeout", Duration.ofSeconds(60), false));
            }
            case "http-check" -> {
                c.only("kind", "url", "expectStatus", "fatal", "timeout");
                String url = c.requiredText("url");
                URI uri;
                try {
                    uri = new URI(url);
                } catch (URISyntaxException e) {
                    throw c.error("url", "is not a URL: " + e.getReason());
                }
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    throw c.error("url", "must be an http:// or https:// URL with a host");
                }
                int status = c.integer("expectStatus", 200);
                if (status < 100 || status > 599) {
                    throw c.error("expectStatus", "must be an HTTP status between 100 and 599");
                }
                yield new ConsumerConfig.HttpCheck(uri, status, c.bool("fatal", true), c.duration("timeout", Duration.ofSeconds(5), false));
            }
            case "kubernetes-secret" -> {
                c.only("kind", "namespace", "name", "data");
                String namespace = dnsLabel(c, "namespace");
                String secret = dnsSubdomain(c, "name");
                Node data = c.requiredObject("data");
                Map<String, String> keys = new java.util.LinkedHashMap<>();
                for (Iterator<String> it = data.node.fieldNames(); it.hasNext(); ) {
                    String key = it.next();
                    if (!SECRET_KEY.matcher(key).matches()) {
                        throw data.error(key, "is not a valid Secret key (letters, digits, '-', '_', '.')");
                    }
                    data.requiredText(key);
                    try {
                        Template.parse(data.at(key), data.node.get(key).asText());
                    } catch (IllegalArgumentException e) {
                        throw config(e.getMessage());
                    }
                    keys.put(key, data.node.get(key).asText());
                }
                if (keys.isEmpty()) {
                    throw c.error("data", "needs at least one key, e.g. DB_PASSWORD: \"{{password}}\"");
                }
                yield new ConsumerConfig.KubernetesSecret(namespace, secret, keys);
            }
            case "kubernetes-rollout" -> {
                c.only("kind", "namespace", "deployment", "timeout");
                yield new ConsumerConfig.KubernetesRollout(dnsLabel(c, "namespace"), dnsSubdomain(c, "deployment"),
                        c.duration("timeout", Duration.ofMinutes(5), false));
            }
            default -> throw c.error("kind", "must be file, command, http-check, kubernetes-secret or kubernetes-rollout, not '"
                    + kind + "'");
        };
    }

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
    private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]{1,253}");

    private static String dnsLabel(Node n, String field) {
        String v = n.requiredText(field);
        if (!DNS_LABEL.matcher(v).matches()) {
            throw n.error(field, "must be a Kubernetes namespace name (lower-case letters, digits, '-')");
        }
        return v;
    }

    private static String dnsSubdomain(Node n, String field) {
        String v = n.requiredText(field);
        if (!DNS_SUBDOMAIN.matcher(v).matches()) {
            throw n.error(field, "must be a Kubernetes object name (lower-case letters, digits, '-', '.')");
        }
        return v;
    }

    static RotationException config(String message) {
        return new RotationException(RotationException.Kind.CONFIG, message);
    }

    /** A YAML node with its path, for messages. */
    private record Node(JsonNode node, String path, Path source) {

        String at(String field) {
            return path.isEmpty() ? field : path + "." + field;
        }

        RotationException error(String field, String problem) {
            return config(source.getFileName() + ": " + at(field) + " " + problem);
        }

        void only(String... allowed) {
            Set<String> known = Set.of(allowed);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!known.contains(f)) {
                    throw error(f, "is not a known field; allowed here: " + String.join(", ", allowed));
                }
            }
        }

        String optionalText(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isValueNode()) {
                throw error(field, "must be a single value, not a list or mapping");
            }
            return v.asText();
        }

        String requiredText(String field) {
            String v = optionalText(field);
            if (v == null || v.isBlank()) {
                throw error(field, "is required");
            }
            return v.trim();
        }

        Node optionalObject(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return null;
            }
            if (!v.isObject()) {
                throw error(field, "must be a mapping");
            }
            return new Node(v, at(field), source);
        }

        Node requiredObject(String field) {
            Node n = optionalObject(field);
            if (n == null) {
                throw error(field, "is required");
            }
            return n;
        }

        List<Node> requiredList(String field) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull() || !v.isArray() || v.isEmpty()) {
                throw error(field, "is required and must be a non-empty list");
            }
            List<Node> out = new ArrayList<>();
            for (int i = 0; i < v.size(); i++) {
                out.add(new Node(v.get(i), at(field) + "[" + i + "]", source));
            }
            return out;
        }

        boolean bool(String field, boolean fallback) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (!v.isBoolean()) {
                throw error(field, "must be true or false");
            }
            return v.asBoolean();
        }

        int integer(String field, int fallback) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (!v.canConvertToInt() || !v.isIntegralNumber()) {
                throw error(field, "must be a whole number");
            }
            return v.asInt();
        }

        Duration duration(String field, Duration fallback, boolean zeroAllowed) {
            String v = optionalText(field);
            if (v == null) {
                return fallback;
            }
            Duration d;
            try {
                d = Durations.parse(at(field), v);
            } catch (IllegalArgumentException e) {
                throw error(field, "must be a duration such as 500ms, 30s or 2m");
            }
            if (d.isNegative() || (!zeroAllowed && d.isZero())) {
                throw error(field, zeroAllowed ? "must not be negative" : "must be more than 0");
            }
            return d;
        }
    }
}
