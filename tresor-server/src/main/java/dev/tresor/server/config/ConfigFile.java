package dev.tresor.server.config;

import java.util.List;

/**
 * The server's YAML file exactly as written by an operator (every field optional here; {@link
 * ConfigLoader} checks and resolves them). Field names are the YAML keys; see
 * docs/configuration.md for each one's meaning and default.
 */
public record ConfigFile(String trustDomain, Listen listen, Tls tls, Ca ca, Store store, KeyProvider keyProvider,
                         Audit audit, Limits limits, Logging logging, Watch watch, Node node) {

    /** {@code id}: this server node's name in audit records (default: generated once, kept beside the audit log). */
    public record Node(String id) {}

    /** Durations as text (e.g. 60s, 24h). */
    public record Watch(String maxWait, String retention) {}

    /** {@code format}: text or json; {@code level}: the default level; {@code levels}: logger name to level. */
    public record Logging(String format, String level, java.util.Map<String, String> levels) {}

    /** {@code join}: optional address of the join port (TLS without client certificates, POST /v1/join only). */
    public record Listen(String api, String management, String join) {}

    public record Tls(String cert, String key, String clientCa, List<String> protocols) {}

    /** {@code previous}: retired CA certificates still trusted (and in the bundle) until their {@code trustUntil}. */
    public record Ca(String cert, String key, String defaultTtl, String maxTtl, List<PreviousCa> previous) {}

    public record PreviousCa(String cert, String trustUntil) {}

    public record Store(String kind, String path, String url, String user, String password, String passwordFile,
                        Integer poolSize, String changeRecheck) {
        @Override
        public String toString() {
            return "Store[kind=" + kind + ", path=" + path + ", url=" + url + ", user=" + user + "]";
        }
    }

    /**
     * {@code kind} local: {@code path} (the key file). {@code kind} pkcs11: {@code library},
     * {@code slot} or {@code slotListIndex}, {@code keyLabel}, and the PIN's source ({@code pinFile}
     * or {@code pinEnv}). {@code pin} exists only so that a PIN written into the config is refused
     * with a message instead of an "unknown field". {@code kind} awskms: {@code keyId} (key ARN, key
     * id or alias/NAME), {@code region}, {@code endpoint}; {@code accessKeyId} and
     * {@code secretAccessKey} exist only to refuse credentials written into the config.
     */
    public record KeyProvider(String kind, String path, String library, Long slot, Integer slotListIndex,
                              String keyLabel, String pinFile, String pinEnv, String pin, String passphraseFile,
                              String passphraseEnv, String passphrase, String keyId, String region, String endpoint,
                              String accessKeyId, String secretAccessKey) {
        @Override
        public String toString() {
            return "KeyProvider[kind=" + kind + ", path=" + path + ", library=" + library + ", slot=" + slot
                    + ", keyLabel=" + keyLabel + ", keyId=" + keyId + ", region=" + region + ", endpoint=" + endpoint + "]";
        }
    }

    public record Audit(String writeTimeout, String fsyncInterval, String segmentSize, String segmentAge, List<Sink> sinks) {}

    /**
     * {@code kind: file} with {@code path}; {@code kind: syslog} with {@code address} (HOST:PORT),
     * {@code ca} (the collector's CA), optional {@code cert}/{@code key} (mTLS to the collector),
     * {@code appName}; {@code kind: stdout}. {@code mode}: file sinks are {@code required}, the
     * others {@code best-effort}, with up to {@code bufferRecords} records held while the
     * collector is down.
     */
    public record Sink(String kind, String path, String mode, String address, String ca, String cert, String key,
                       String appName, Integer bufferRecords) {}

    public record Limits(Integer maxBodyBytes, String idleTimeout, Integer maxConnections, Integer joinAttemptsPerMinute) {}
}
