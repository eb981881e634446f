package dev.tresor.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tresor.model.Durations;
import dev.tresor.store.StoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads and checks the server YAML. Every problem is reported as a {@link ConfigException}
 * naming the field ("store.kind: ..."), so a bad file is refused at start with a message that
 * says what to fix. Relative paths are resolved against the config file's folder.
 */
public final class ConfigLoader {

    public static final int DEFAULT_MAX_BODY = 1024 * 1024 + 64 * 1024;
    private static final Set<String> TLS_PROTOCOLS = Set.of("TLSv1.3", "TLSv1.2");

    /** Shortest certificate lifetime the CA may be configured to: renewal at half-life then runs every 30 s. */
    public static final Duration MIN_LEAF_TTL = Duration.ofMinutes(1);

    private ConfigLoader() {}

    public static ServerSettings load(Path file) {
        String yaml;
        try {
            yaml = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist (create one with: tresor init DIR)");
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        return parse(yaml, file.toAbsolutePath().getParent()).withConfigFile(file.toAbsolutePath());
    }

    public static ServerSettings parse(String yaml, Path baseDir) {
        // A key given twice is refused, not silently won by the last one (two `logging:` sections).
        ObjectMapper mapper = new ObjectMapper(YAMLFactory.builder()
                        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        if (yaml.lines().allMatch(line -> line.isBlank() || line.strip().startsWith("#"))) {
            throw new ConfigException("config is empty");
        }
        ConfigFile c;
        try {
            c = mapper.readValue(yaml, ConfigFile.class);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : " (known fields: "
                    + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            throw new ConfigException(path(e) + ": unknown field" + known);
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof JsonProcessingException syntax) { // a YAML syntax error inside a field's value
                throw notYaml(syntax);
            }
            throw new ConfigException(path(e) + ": " + firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw notYaml(e);
        }
        if (c == null) {
            throw new ConfigException("config is empty");
        }
        return resolve(c, baseDir);
    }

    private static ConfigException notYaml(JsonProcessingException e) {
        String message = firstLine(e.getOriginalMessage());
        if (message.startsWith("Duplicate field")) {
            return new ConfigException("config: " + message.replace("Duplicate field", "field") + " is given twice"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")") + "; keep one");
        }
        return new ConfigException("config is not valid YAML: " + firstLine(e.getOriginalMessage())
                + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }

    private static ServerSettings resolve(ConfigFile c, Path base) {
        String trustDomain = c.trustDomain() == null ? "tresor.local" : c.trustDomain();
        try {
            dev.tresor.ca.Identities.validateTrustDomain(trustDomain);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("trustDomain: " + e.getMessage());
        }
        ConfigFile.Listen listen = require(c.listen(), "listen");
        InetSocketAddress api = address("listen.api", require(listen.api(), "listen.api"));
        InetSocketAddress management = address("listen.management",
                listen.management() == null ? "127.0.0.1:0" : listen.management());
        InetSocketAddress join = listen.join() == null ? null : address("listen.join", listen.join());
        if (join != null && c.ca() == null) {
            throw new ConfigException("listen.join: the join port issues certificates, so it needs the built-in CA"
                    + " (ca.cert and ca.key)");
        }

        ConfigFile.Tls tls = require(c.tls(), "tls");
        Path tlsCert = existingFile(base, "tls.cert", tls.cert());
        Path tlsKey = existingFile(base, "tls.key", tls.key());
        Path clientCa = existingFile(base, "tls.clientCa", tls.clientCa());
        List<String> protocols = tls.protocols() == null ? List.of("TLSv1.3", "TLSv1.2") : tls.protocols();
        if (protocols.isEmpty()) {
            throw new ConfigException("tls.protocols: list at least one of TLSv1.3, TLSv1.2");
        }
        for (String p : protocols) {
            if (!TLS_PROTOCOLS.contains(p)) {
                throw new ConfigException("tls.protocols: '" + p + "' is not allowed; use TLSv1.3 and/or TLSv1.2");
            }
        }

        Path caCert = null;
        Path caKey = null;
        List<ServerSettings.RetiredCa> caPrevious = new ArrayList<>();
        Duration caDefault = Duration.ofHours(24);
        Duration caMax = Duration.ofDays(397);
        if (c.ca() != null) {
            caCert = existingFile(base, "ca.cert", c.ca().cert());
            caKey = existingFile(base, "ca.key", c.ca().key());
            List<ConfigFile.PreviousCa> previous = c.ca().previous() == null ? List.of() : c.ca().previous();
            for (int i = 0; i < previous.size(); i++) {
                String field = "ca.previous[" + i + "]";
                ConfigFile.PreviousCa p = previous.get(i);
                if (p == null || p.trustUntil() == null) {
                    throw new ConfigException(field + ".trustUntil: required, the instant the retired CA stops being"
                            + " trusted (e.g. 2027-01-31T00:00:00Z)");
                }
                java.time.Instant until;
                try {
                    until = java.time.Instant.parse(p.trustUntil());
                } catch (java.time.format.DateTimeParseException e) {
                    throw new ConfigException(field + ".trustUntil: not an ISO-8601 instant such as 2027-01-31T00:00:00Z");
                }
                caPrevious.add(new ServerSettings.RetiredCa(existingFile(base, field + ".cert", p.cert()), until));
            }
            if (c.ca().defaultTtl() != null) {
                caDefault = duration("ca.defaultTtl", c.ca().defaultTtl());
            }
            if (c.ca().maxTtl() != null) {
                caMax = duration("ca.maxTtl", c.ca().maxTtl());
            }
            if (caDefault.compareTo(MIN_LEAF_TTL) < 0) {
                throw new ConfigException("ca.defaultTtl: must be at least " + Durations.format(MIN_LEAF_TTL)
                        + " (certificates are renewed at half-life)");
            }
            if (caMax.compareTo(MIN_LEAF_TTL) < 0 || caMax.compareTo(dev.tresor.ca.CertificateAuthority.MAX_LEAF_TTL) > 0) {
                throw new ConfigException("ca.maxTtl: must be at least " + Durations.format(MIN_LEAF_TTL) + " and at most "
                        + Durations.format(dev.tresor.ca.CertificateAuthority.MAX_LEAF_TTL));
            }
            if (caDefault.compareTo(caMax) > 0) {
                throw new ConfigException("ca.defaultTtl: " + Durations.format(caDefault) + " exceeds ca.maxTtl "
                        + Durations.format(caMax));
            }
        }

        StoreConfig store = store(require(c.store(), "store"), base);

        ConfigFile.KeyProvider kp = require(c.keyProvider(), "keyProvider");
        String kind = kp.kind() == null ? "local" : kp.kind();
        Path keyFile = null;
        ServerSettings.Pkcs11 pkcs11 = null;
        dev.tresor.crypto.awskms.AwsKmsKeyProvider.Settings awsKms = null;
        dev.tresor.crypto.Passphrase passphrase = null;
        refuseAwsCredentials(kp);
        switch (kind) {
            case "local" -> {
                onlyFor("local", "keyProvider.library", kp.library());
                onlyFor("local", "keyProvider.keyLabel", kp.keyLabel());
                onlyFor("local", "keyProvider.pinFile", kp.pinFile());
                onlyFor("local", "keyProvider.pinEnv", kp.pinEnv());
                onlyForAwsKms(kind, kp);
                keyFile = existingFile(base, "keyProvider.path", kp.path());
                passphrase = passphrase(kp, base, keyFile);
            }
            case "pkcs11" -> {
                onlyFor("pkcs11", "keyProvider.passphraseFile", kp.passphraseFile());
                onlyFor("pkcs11", "keyProvider.passphraseEnv", kp.passphraseEnv());
                onlyFor("pkcs11", "keyProvider.passphrase", kp.passphrase());
                onlyForAwsKms(kind, kp);
                pkcs11 = pkcs11(kp, base);
            }
            case "awskms" -> awsKms = awsKms(kp);
            default -> throw new ConfigException("keyProvider.kind: '" + kind + "' is not available; use 'local', "
                    + "'pkcs11' or 'awskms'");
        }

        ConfigFile.Audit audit = require(c.audit(), "audit");
        Duration writeTimeout = audit.writeTimeout() == null ? Duration.ofSeconds(2) : duration("audit.writeTimeout", audit.writeTimeout());
        Duration fsync = audit.fsyncInterval() == null ? Duration.ofMillis(50) : duration("audit.fsyncInterval", audit.fsyncInterval());
        if (writeTimeout.isZero() || writeTimeout.isNegative()) {
            throw new ConfigException("audit.writeTimeout: must be more than 0");
        }
        long segmentBytes = audit.segmentSize() == null ? 256L << 20 : size("audit.segmentSize", audit.segmentSize());
        if (segmentBytes < 64L << 10) {
            throw new ConfigException("audit.segmentSize: must be at least 64KiB (e.g. 256MiB, 1GiB)");
        }
        Duration segmentAge = audit.segmentAge() == null ? null : duration("audit.segmentAge", audit.segmentAge());
        if (segmentAge != null && segmentAge.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigException("audit.segmentAge: must be at least 1m (e.g. 24h)");
        }
        if (audit.sinks() == null || audit.sinks().isEmpty()) {
            throw new ConfigException("audit.sinks: list at least one sink, e.g. [{kind: file, path: audit.log}]");
        }
        List<Path> auditFiles = new ArrayList<>();
        List<ServerSettings.AuditCopy> auditCopies = new ArrayList<>();
        for (int i = 0; i < audit.sinks().size(); i++) {
            ConfigFile.Sink sink = audit.sinks().get(i);
            String field = "audit.sinks[" + i + "]";
            String sinkKind = sink == null ? null : sink.kind();
            if (sinkKind == null || !List.of("file", "syslog", "stdout").contains(sinkKind)) {
                throw new ConfigException(field + ".kind: must be 'file', 'syslog' or 'stdout'");
            }
            if (sinkKind.equals("file")) {
                if (sink.mode() != null && !sink.mode().equals("required")) {
                    throw new ConfigException(field + ".mode: a file sink is the evidence and is always 'required'");
                }
                if (sink.path() == null || sink.path().isBlank()) {
                    throw new ConfigException(field + ".path: required (the audit log file)");
                }
                auditFiles.add(base.resolve(sink.path()).normalize());
                continue;
            }
            if (sink.mode() != null && !List.of("best-effort", "required").contains(sink.mode())) {
                throw new ConfigException(field + ".mode: must be 'best-effort' (buffered, never holds up a request; the"
                        + " default) or 'required' (a request waits for it, and fails with 503 when it cannot write)");
            }
            boolean required = "required".equals(sink.mode());
            int buffer = sink.bufferRecords() == null ? 100_000 : sink.bufferRecords();
            if (buffer < 1 || buffer > 10_000_000) {
                throw new ConfigException(field + ".bufferRecords: must be between 1 and 10000000");
            }
            if (sinkKind.equals("stdout")) {
                auditCopies.add(new ServerSettings.AuditCopy("stdout", null, 0, null, null, null, null, buffer, required));
                continue;
            }
            if (sink.address() == null || sink.address().isBlank()) {
                throw new ConfigException(field + ".address: required, HOST:PORT of the syslog collector (TLS, e.g. :6514)");
            }
            int colon = sink.address().lastIndexOf(':');
            String host = colon < 0 ? "" : sink.address().substring(0, colon);
            int port;
            try {
                port = colon < 0 ? -1 : Integer.parseInt(sink.address().substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (host.isBlank() || port < 1 || port > 65_535) {
                throw new ConfigException(field + ".address: '" + sink.address() + "' must be HOST:PORT with a port"
                        + " between 1 and 65535, e.g. siem.example.org:6514");
            }
            if (sink.ca() == null || sink.ca().isBlank()) {
                throw new ConfigException(field + ".ca: required, the CA certificate(s) the collector's certificate is checked"
                        + " against (syslog goes over TLS only)");
            }
            if ((sink.cert() == null) != (sink.key() == null)) {
                throw new ConfigException(field + (sink.cert() == null ? ".cert" : ".key")
                        + ": give both cert and key (mTLS to the collector), or neither");
            }
            auditCopies.add(new ServerSettings.AuditCopy("syslog", host, port, base.resolve(sink.ca()).normalize(),
                    sink.cert() == null ? null : base.resolve(sink.cert()).normalize(),
                    sink.key() == null ? null : base.resolve(sink.key()).normalize(),
                    sink.appName() == null ? "tresor" : sink.appName(), buffer, required));
        }
        if (auditFiles.isEmpty()) {
            throw new ConfigException("audit.sinks: at least one sink must be kind 'file' (the hash-chained log"
                    + " the server depends on); syslog and stdout are copies");
        }

        ConfigFile.Limits limits = c.limits() == null ? new ConfigFile.Limits(null, null, null, null) : c.limits();
        int maxBody = limits.maxBodyBytes() == null ? DEFAULT_MAX_BODY : limits.maxBodyBytes();
        if (maxBody < 1024 || maxBody > 64 * 1024 * 1024) {
            throw new ConfigException("limits.maxBodyBytes: must be between 1024 and 67108864");
        }
        Duration idle = limits.idleTimeout() == null ? Duration.ofSeconds(60) : duration("limits.idleTimeout", limits.idleTimeout());
        int maxConnections = limits.maxConnections() == null ? 10_000 : limits.maxConnections();
        if (maxConnections < 1) {
            throw new ConfigException("limits.maxConnections: must be at least 1");
        }
        int joinPerMinute = limits.joinAttemptsPerMinute() == null ? 10 : limits.joinAttemptsPerMinute();
        if (joinPerMinute < 1 || joinPerMinute > 100_000) {
            throw new ConfigException("limits.joinAttemptsPerMinute: must be between 1 and 100000");
        }
        return new ServerSettings(trustDomain, api, management, join, joinPerMinute, tlsCert, tlsKey, clientCa, List.copyOf(protocols),
                caCert, caKey, caDefault, caMax, List.copyOf(caPrevious), store, kind, keyFile, pkcs11, awsKms, passphrase, writeTimeout, fsync, List.copyOf(auditFiles),
                List.copyOf(auditCopies), new dev.tresor.audit.SegmentPolicy(segmentBytes, segmentAge),
                maxBody, idle, maxConnections, logging(c.logging()), watch(c.watch(), idle), null, null, nodeId(c.node()));
    }

    /** Letters, digits, '.', '_' and '-', 1-63 characters, starting with a letter or digit (it names a node in audit records). */
    private static final java.util.regex.Pattern NODE_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private static String nodeId(ConfigFile.Node node) {
        if (node == null || node.id() == null) {
            return null;
        }
        if (!NODE_ID.matcher(node.id()).matches()) {
            throw new ConfigException("node.id: 1-63 of A-Z a-z 0-9 . _ - starting with a letter or digit, not '" + node.id() + "'");
        }
        return node.id();
    }

    private static ServerSettings.Watch watch(ConfigFile.Watch w, Duration idle) {
        ConfigFile.Watch given = w == null ? new ConfigFile.Watch(null, null) : w;
        Duration maxWait = given.maxWait() == null ? Duration.ofSeconds(60) : duration("watch.maxWait", given.maxWait());
        if (maxWait.compareTo(Duration.ofSeconds(1)) < 0 || maxWait.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new ConfigException("watch.maxWait: must be between 1s and 10m");
        }
        // A waiting request sends nothing; the idle timeout would cut it first, so stay below it.
        Duration belowIdle = idle.minusSeconds(5);
        if (maxWait.compareTo(belowIdle) > 0) {
            if (given.maxWait() != null) {
                throw new ConfigException("watch.maxWait: must be at least 5s below limits.idleTimeout ("
                        + dev.tresor.model.Durations.format(idle) + "), which would cut a waiting watcher first");
            }
            maxWait = belowIdle.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : belowIdle;
        }
        Duration retention = given.retention() == null ? Duration.ofHours(24) : duration("watch.retention", given.retention());
        if (retention.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new ConfigException("watch.retention: must be at least 1m");
        }
        return new ServerSettings.Watch(maxWait, retention);
    }

    private static final java.util.Set<String> LEVELS = java.util.Set.of("trace", "debug", "info", "warn", "error", "off");

    /**
     * Loggers whose debug output carries raw request or connection bytes (Jetty's parser and
     * buffers), so a secret in a request body could land in the log: never below info.
     */
    private static final List<String> RAW_BYTES_LOGGERS = List.of("org.eclipse.jetty");

    private static ServerSettings.Logging logging(ConfigFile.Logging l) {
        if (l == null) {
            return ServerSettings.Logging.DEFAULT;
        }
        String format = l.format() == null ? "text" : l.format();
        if (!format.equals("text") && !format.equals("json")) {
            throw new ConfigException("logging.format: must be text or json, not '" + format + "'");
        }
        String level = level("logging.level", l.level() == null ? "info" : l.level());
        java.util.Map<String, String> levels = new java.util.LinkedHashMap<>();
        if (l.levels() != null) {
            for (var e : l.levels().entrySet()) {
                String logger = e.getKey();
                if (!logger.matches("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*")) {
                    throw new ConfigException("logging.levels: '" + logger + "' is not a logger name (e.g. org.flywaydb)");
                }
                levels.put(logger, level("logging.levels." + logger, e.getValue()));
            }
        }
        for (String raw : RAW_BYTES_LOGGERS) {
            for (var e : levels.entrySet()) {
                boolean covers = e.getKey().equals(raw) || e.getKey().startsWith(raw + ".");
                if (covers && (e.getValue().equals("debug") || e.getValue().equals("trace"))) {
                    throw new ConfigException("logging.levels." + e.getKey() + ": at most info; " + raw + "'s debug output "
                            + "includes raw request bytes, which can hold secrets");
                }
            }
        }
        return new ServerSettings.Logging(format.equals("json"), level, levels);
    }

    private static String level(String field, String value) {
        String normalized = value == null ? "" : value.toLowerCase(java.util.Locale.ROOT);
        if (!LEVELS.contains(normalized)) {
            throw new ConfigException(field + ": must be one of trace, debug, info, warn, error, off; not '" + value + "'");
        }
        return normalized;
    }

    private static StoreConfig store(ConfigFile.Store s, Path base) {
        String kind = s.kind() == null ? "sqlite" : s.kind();
        int pool = s.poolSize() == null ? (kind.equals("sqlite") ? 8 : 10) : s.poolSize();
        if (pool < 1 || pool > 200) {
            throw new ConfigException("store.poolSize: must be between 1 and 200");
        }
        java.time.Duration recheck = s.changeRecheck() == null ? StoreConfig.DEFAULT_CHANGE_RECHECK
                : duration("store.changeRecheck", s.changeRecheck());
        if (recheck.toMillis() < 10 || recheck.compareTo(java.time.Duration.ofHours(1)) > 0) {
            throw new ConfigException("store.changeRecheck: must be between 10ms and 1h");
        }
        return storeOfKind(s, base, kind, pool).withChangeRecheck(recheck);
    }

    private static StoreConfig storeOfKind(ConfigFile.Store s, Path base, String kind, int pool) {
        switch (kind) {
            case "sqlite" -> {
                if (s.path() == null || s.path().isBlank()) {
                    throw new ConfigException("store.path: required for kind sqlite (e.g. tresor.db)");
                }
                return new StoreConfig("sqlite", base.resolve(s.path()).normalize(), null, null, null, pool);
            }
            case "postgresql" -> {
                if (s.url() == null || !s.url().startsWith("jdbc:postgresql://")) {
                    throw new ConfigException("store.url: required for kind postgresql, e.g. jdbc:postgresql://db:5432/tresor");
                }
                String password = s.password();
                if (s.passwordFile() != null) {
                    if (password != null) {
                        throw new ConfigException("store.passwordFile: give either password or passwordFile, not both");
                    }
                    Path file = existingFile(base, "store.passwordFile", s.passwordFile());
                    try {
                        password = Files.readString(file, StandardCharsets.UTF_8).strip();
                    } catch (IOException e) {
                        throw new ConfigException("store.passwordFile: cannot read " + file + ": " + e.getMessage());
                    }
                }
                return new StoreConfig("postgresql", null, s.url(), s.user(), password, pool);
            }
            default -> throw new ConfigException("store.kind: '" + kind + "' is not supported; use 'sqlite' or 'postgresql'");
        }
    }

    private static <T> T require(T value, String field) {
        if (value == null) {
            throw new ConfigException(field + ": required");
        }
        return value;
    }

    /** A field of another provider kind is a mistake to name, not something to ignore silently. */
    private static void onlyFor(String kind, String field, Object value) {
        if (value != null) {
            throw new ConfigException(field + ": not used by keyProvider.kind '" + kind + "'; remove it");
        }
    }

    /**
     * Where a sealed local key file's passphrase comes from (null: the key file is in clear). A
     * sealed file without a source is asked for on the terminal at start (and refused, naming both
     * fields, when there is none); a source beside a clear file is a mistake named at load.
     */
    private static dev.tresor.crypto.Passphrase passphrase(ConfigFile.KeyProvider kp, Path base, Path keyFile) {
        if (kp.passphrase() != null) {
            throw new ConfigException("keyProvider.passphrase: the passphrase never goes in the config; put it in a file "
                    + "only the server can read (keyProvider.passphraseFile) or in an environment variable "
                    + "(keyProvider.passphraseEnv)");
        }
        if (kp.passphraseFile() != null && kp.passphraseEnv() != null) {
            throw new ConfigException("keyProvider.passphraseFile: give either passphraseFile or passphraseEnv, not both");
        }
        boolean sealed;
        try {
            sealed = dev.tresor.crypto.LocalKeyProvider.isSealed(keyFile);
        } catch (RuntimeException e) {
            throw new ConfigException("keyProvider.path: " + e.getMessage());
        }
        if (kp.passphraseFile() == null && kp.passphraseEnv() == null) {
            // Sealed, with no source named: asked on the terminal at start (refused, naming both fields, without one).
            return sealed ? dev.tresor.crypto.Passphrase.fromTerminal("key file " + keyFile) : null;
        }
        if (!sealed) {
            throw new ConfigException("keyProvider." + (kp.passphraseFile() != null ? "passphraseFile" : "passphraseEnv")
                    + ": key file " + keyFile + " is not sealed by a passphrase; seal it (tresor key passphrase --config "
                    + "FILE --new-passphrase-file F) or remove this field");
        }
        return kp.passphraseFile() != null
                ? dev.tresor.crypto.Passphrase.fromFile(existingFile(base, "keyProvider.passphraseFile", kp.passphraseFile()))
                : dev.tresor.crypto.Passphrase.fromEnvironment(kp.passphraseEnv());
    }

    private static void onlyForAwsKms(String kind, ConfigFile.KeyProvider kp) {
        onlyFor(kind, "keyProvider.keyId", kp.keyId());
        onlyFor(kind, "keyProvider.region", kp.region());
        onlyFor(kind, "keyProvider.endpoint", kp.endpoint());
    }

    /** AWS credentials in the config would sit in clear beside the store's settings: refused, with where they go instead. */
    private static void refuseAwsCredentials(ConfigFile.KeyProvider kp) {
        if (kp.accessKeyId() != null || kp.secretAccessKey() != null) {
            throw new ConfigException("keyProvider." + (kp.secretAccessKey() != null ? "secretAccessKey" : "accessKeyId")
                    + ": AWS credentials never go in the config; the server takes them from the AWS SDK's default chain "
                    + "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment, AWS_PROFILE, or an instance or "
                    + "container role)");
        }
    }

    private static dev.tresor.crypto.awskms.AwsKmsKeyProvider.Settings awsKms(ConfigFile.KeyProvider kp) {
        onlyFor("awskms", "keyProvider.path", kp.path());
        onlyFor("awskms", "keyProvider.library", kp.library());
        onlyFor("awskms", "keyProvider.keyLabel", kp.keyLabel());
        onlyFor("awskms", "keyProvider.slot", kp.slot());
        onlyFor("awskms", "keyProvider.slotListIndex", kp.slotListIndex());
        onlyFor("awskms", "keyProvider.pinFile", kp.pinFile());
        onlyFor("awskms", "keyProvider.pinEnv", kp.pinEnv());
        onlyFor("awskms", "keyProvider.passphraseFile", kp.passphraseFile());
        onlyFor("awskms", "keyProvider.passphraseEnv", kp.passphraseEnv());
        onlyFor("awskms", "keyProvider.passphrase", kp.passphrase());
        if (kp.keyId() == null || kp.keyId().isBlank()) {
            throw new ConfigException("keyProvider.keyId: required for kind awskms (the KMS key: its ARN, its key id or "
                    + "alias/NAME)");
        }
        java.net.URI endpoint = null;
        if (kp.endpoint() != null) {
            try {
                endpoint = new java.net.URI(kp.endpoint());
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException("keyProvider.endpoint: not a URL (" + e.getMessage() + ")");
            }
            if (!"https".equals(endpoint.getScheme()) && !"http".equals(endpoint.getScheme()) || endpoint.getHost() == null) {
                throw new ConfigException("keyProvider.endpoint: give a URL such as https://kms.eu-central-1.amazonaws.com "
                        + "(or a VPC endpoint's)");
            }
        }
        return new dev.tresor.crypto.awskms.AwsKmsKeyProvider.Settings(kp.keyId().strip(),
                kp.region() == null ? null : kp.region().strip(), endpoint);
    }

    private static ServerSettings.Pkcs11 pkcs11(ConfigFile.KeyProvider kp, Path base) {
        if (kp.pin() != null) {
            throw new ConfigException("keyProvider.pin: the HSM PIN never goes in the config; put it in a file only the "
                    + "server can read (keyProvider.pinFile) or in an environment variable (keyProvider.pinEnv)");
        }
        onlyFor("pkcs11", "keyProvider.path", kp.path());
        if (kp.library() == null || kp.library().isBlank()) {
            throw new ConfigException("keyProvider.library: required for kind pkcs11 (the PKCS#11 module, e.g. "
                    + "/usr/lib/softhsm/libsofthsm2.so)");
        }
        if (kp.keyLabel() == null || kp.keyLabel().isBlank()) {
            throw new ConfigException("keyProvider.keyLabel: required for kind pkcs11 (the label of the AES key on the token)");
        }
        if (kp.slot() != null && kp.slotListIndex() != null) {
            throw new ConfigException("keyProvider.slot: give either slot or slotListIndex, not both");
        }
        if ((kp.pinFile() == null) == (kp.pinEnv() == null)) {
            throw new ConfigException("keyProvider.pinFile: give exactly one of pinFile or pinEnv (where the HSM PIN is read from)");
        }
        dev.tresor.crypto.Pkcs11KeyProvider.Pin pin = kp.pinFile() != null
                ? dev.tresor.crypto.Pkcs11KeyProvider.Pin.fromFile(existingFile(base, "keyProvider.pinFile", kp.pinFile()))
                : dev.tresor.crypto.Pkcs11KeyProvider.Pin.fromEnvironment(kp.pinEnv());
        return new ServerSettings.Pkcs11(new dev.tresor.crypto.Pkcs11KeyProvider.Settings(
                base.resolve(kp.library()).normalize(), kp.slot(), kp.slotListIndex(), kp.keyLabel()), pin);
    }

    private static Path existingFile(Path base, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new ConfigException(field + ": required (a file path)");
        }
        Path p = base.resolve(value).normalize();
        if (!Files.isRegularFile(p)) {
            throw new ConfigException(field + ": file " + p + " does not exist");
        }
        if (!Files.isReadable(p)) {
            throw new ConfigException(field + ": file " + p + " is not readable by this user");
        }
        return p;
    }

    /** A size such as {@code 1048576}, {@code 64KiB}, {@code 256MiB} or {@code 1GiB}. */
    private static long size(String field, String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,13})\\s*(|B|KiB|MiB|GiB)").matcher(text.trim());
        if (!m.matches()) {
            throw new ConfigException(field + ": '" + text + "' is not a size; write e.g. 256MiB, 1GiB or a number of bytes");
        }
        int shift = switch (m.group(2)) {
            case "KiB" -> 10;
            case "MiB" -> 20;
            case "GiB" -> 30;
            default -> 0;
        };
        long n = Long.parseLong(m.group(1));
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new ConfigException(field + ": '" + text + "' is too large");
        }
        return n << shift;
    }

    private static Duration duration(String field, String text) {
        try {
            Duration d = Durations.parse(field, text);
            if (d.isNegative()) {
                throw new ConfigException(field + ": must not be negative");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    static InetSocketAddress address(String field, String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigException(field + ": '" + text + "' must be HOST:PORT, e.g. 0.0.0.0:8443");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(field + ": port in '" + text + "' is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(field + ": port " + port + " is out of range (0-65535; 0 = any free port)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host.isEmpty() ? "0.0.0.0" : host), port);
        } catch (UnknownHostException e) {
            throw new ConfigException(field + ": unknown host '" + host + "'");
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!out.isEmpty()) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.isEmpty() ? "config" : out.toString();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "invalid value";
        }
        String line = message.lines().findFirst().orElse(message);
        // Jackson names Java types in backticks; operators want the YAML view.
        return line.replaceAll("`[a-zA-Z0-9_.$]+\\.([A-Za-z0-9_$]+)`", "$1");
    }
}
