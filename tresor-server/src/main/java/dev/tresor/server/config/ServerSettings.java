package dev.tresor.server.config;

import dev.tresor.store.StoreConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The checked, resolved server configuration: absolute paths, parsed durations, bound addresses.
 * {@code joinAddress} is null when no join port is configured; {@code joinAttemptsPerMinute} limits join attempts per source address. {@code acceptRollback} is not in the config file: it is the operator's reason, given on the
 * command line for one start, to accept an audit log and a store that disagree (null refuses).
 * {@code configFile} is the file the settings were loaded from (null when parsed from text): what
 * an online CA rollover rewrites.
 */
public record ServerSettings(
        String trustDomain,
        InetSocketAddress apiAddress,
        InetSocketAddress managementAddress,
        InetSocketAddress joinAddress,
        int joinAttemptsPerMinute,
        Path tlsCert,
        Path tlsKey,
        Path clientCa,
        List<String> tlsProtocols,
        Path caCert,
        Path caKey,
        Duration caDefaultTtl,
        Duration caMaxTtl,
        List<RetiredCa> caPrevious,
        StoreConfig store,
        String keyProviderKind,
        Path keyFile,
        Pkcs11 pkcs11,
        dev.tresor.crypto.awskms.AwsKmsKeyProvider.Settings awsKms,
        dev.tresor.crypto.Passphrase keyPassphrase,
        Duration auditWriteTimeout,
        Duration auditFsyncInterval,
        List<Path> auditFiles,
        List<AuditCopy> auditCopies,
        dev.tresor.audit.SegmentPolicy auditSegments,
        int maxBodyBytes,
        Duration idleTimeout,
        int maxConnections,
        Logging logging,
        Watch watch,
        String acceptRollback,
        Path configFile,
        String nodeId) {

    /**
     * The change feed ({@code GET /v1/watch}): the longest a watcher may wait for an answer
     * (kept below the idle timeout, which would otherwise cut the waiting connection) and how
     * long entries are kept (an older cursor gets 410 and re-lists).
     */
    public record Watch(Duration maxWait, Duration retention) {}

    /**
     * How the server logs (to stderr): {@code json} lines or {@code text}, a default level and
     * levels per logger. Levels are trace, debug, info, warn, error or off.
     */
    public record Logging(boolean json, String level, java.util.Map<String, String> levels) {
        public static final Logging DEFAULT = new Logging(false, "info", java.util.Map.of());

        public Logging {
            levels = java.util.Map.copyOf(levels);
        }
    }

    /**
     * A best-effort copy of the audit records for a SIEM: {@code kind} "syslog" (RFC 5424 over
     * TLS to {@code host}:{@code port}, trusting {@code ca}, presenting {@code cert}/{@code key}
     * if given) or "stdout" (JSON lines); other fields null for stdout. {@code required}: every
     * record must reach it before the request proceeds (else buffered, best effort).
     */
    public record AuditCopy(String kind, String host, int port, Path ca, Path cert, Path key, String appName,
                            int bufferRecords, boolean required) {}

    /** Where the pkcs11 provider's token, key and PIN are (kind pkcs11; null for local). The PIN itself is read at start. */
    public record Pkcs11(dev.tresor.crypto.Pkcs11KeyProvider.Settings settings, dev.tresor.crypto.Pkcs11KeyProvider.Pin pin) {}

    /**
     * Opens the configured KEK: the key file (local), the HSM token (pkcs11, logging in with the
     * PIN from its file or from {@code environment}) or the KMS key (awskms, with the AWS
     * credentials {@code environment} names or the SDK's default chain).
     */
    public dev.tresor.crypto.KeyProvider openKeyProvider(java.util.Map<String, String> environment) {
        if (awsKms != null) {
            return dev.tresor.crypto.awskms.AwsKmsKeyProvider.open(awsKms, environment);
        }
        if (pkcs11 != null) {
            return dev.tresor.crypto.Pkcs11KeyProvider.open(pkcs11.settings(), pkcs11.pin(), environment);
        }
        return openLocal(keyFile, environment);
    }

    /**
     * Opens {@code file} (the key file or a rotation's next one) as this config's local KEK: with
     * the configured passphrase if there is one. The passphrase is zeroed after use.
     */
    public dev.tresor.crypto.LocalKeyProvider openLocal(Path file, java.util.Map<String, String> environment) {
        if (keyPassphrase == null) {
            return dev.tresor.crypto.LocalKeyProvider.load(file);
        }
        char[] passphrase = keyPassphrase.read(environment);
        try {
            return dev.tresor.crypto.LocalKeyProvider.load(file, passphrase);
        } catch (IllegalArgumentException e) {
            keyPassphrase.forget(); // a passphrase typed on the terminal is asked again, not kept
            throw new IllegalArgumentException(e.getMessage() + "; the passphrase came from " + keyPassphrase.source(), e);
        } finally {
            java.util.Arrays.fill(passphrase, '\0');
        }
    }

    /** Creates a new local key file sealed like this config's (by its passphrase, or in clear without one). */
    public dev.tresor.crypto.LocalKeyProvider createLocal(Path file, java.util.Map<String, String> environment) {
        if (keyPassphrase == null) {
            return dev.tresor.crypto.LocalKeyProvider.create(file);
        }
        char[] passphrase = keyPassphrase.read(environment);
        try {
            return dev.tresor.crypto.LocalKeyProvider.createSealed(file, passphrase);
        } finally {
            java.util.Arrays.fill(passphrase, '\0');
        }
    }

    /** A retired CA (after {@code tresor ca rotate}): its certificate stays trusted until {@code trustUntil}. */
    public record RetiredCa(Path cert, java.time.Instant trustUntil) {
        /**
         * Where {@code tresor ca rotate} moved the retired CA's key: beside its certificate, with
         * {@code .key} for {@code .crt} ({@code ca-retired-<serial>.key}). It signs that CA's CRL
         * during the overlap; the operator may delete it, and then no CRL of that CA is served.
         */
        public Path keyFile() {
            String name = cert.getFileName().toString();
            String stem = name.endsWith(".crt") ? name.substring(0, name.length() - 4) : name;
            return cert.resolveSibling(stem + ".key");
        }
    }

    /** These settings with the operator's reason to accept a detected rollback for this start. */
    public ServerSettings withAcceptRollback(String reason) {
        return new ServerSettings(trustDomain, apiAddress, managementAddress, joinAddress, joinAttemptsPerMinute, tlsCert, tlsKey,
                clientCa, tlsProtocols, caCert, caKey, caDefaultTtl, caMaxTtl, caPrevious, store, keyProviderKind, keyFile, pkcs11,
                awsKms, keyPassphrase, auditWriteTimeout, auditFsyncInterval, auditFiles, auditCopies, auditSegments, maxBodyBytes, idleTimeout,
                maxConnections, logging, watch, reason, configFile, nodeId);
    }

    /** These settings as loaded from {@code file}. */
    public ServerSettings withConfigFile(Path file) {
        return new ServerSettings(trustDomain, apiAddress, managementAddress, joinAddress, joinAttemptsPerMinute, tlsCert, tlsKey,
                clientCa, tlsProtocols, caCert, caKey, caDefaultTtl, caMaxTtl, caPrevious, store, keyProviderKind, keyFile, pkcs11,
                awsKms, keyPassphrase, auditWriteTimeout, auditFsyncInterval, auditFiles, auditCopies, auditSegments, maxBodyBytes, idleTimeout,
                maxConnections, logging, watch, acceptRollback, file, nodeId);
    }
}
