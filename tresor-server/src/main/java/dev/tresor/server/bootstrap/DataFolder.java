package dev.tresor.server.bootstrap;

import dev.tresor.Tresor;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A server data folder: config, KEK, CA, server certificate, store, audit log and the first
 * admin's certificate. {@code tresor init} and {@code tresor dev} both create one with this
 * class, so a dev folder is a real production layout, not a special mode.
 *
 * <pre>
 * DIR/tresor.yaml          the server config (documented inline)
 * DIR/kek.json             the KEK (0600)
 * DIR/ca.crt, ca.key       the CA (key 0600)
 * DIR/server.crt, .key     the API's TLS certificate
 * DIR/tresor.db            the SQLite store
 * DIR/audit.log            the audit log (hash chain)
 * DIR/clients/NAME.crt/.key, clients/ca.crt   the first admin's client certificate
 * </pre>
 */
public final class DataFolder {

    public static final String CONFIG = "tresor.yaml";

    /**
     * What to create. {@code serverNames} are extra DNS names / IPs for the server certificate;
     * {@code adminOut} is where the first admin's key, certificate and CA copy go (null: the
     * folder's own {@code clients/}, as {@code tresor dev} does; production keeps them apart).
     */
    public record Options(String trustDomain, String apiListen, String managementListen, List<String> serverNames,
                          String adminName, Duration adminCertTtl, Path adminOut) {}

    /** Paths of the first admin's credentials. */
    public record AdminCredentials(Path cert, Path key, Path ca, String identity) {}

    private final Path dir;

    public DataFolder(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    public Path config() {
        return dir.resolve(CONFIG);
    }

    public boolean exists() {
        return Files.isRegularFile(config());
    }

    public AdminCredentials adminCredentials(String adminName) {
        Path clients = dir.resolve("clients");
        return new AdminCredentials(clients.resolve(adminName + ".crt"), clients.resolve(adminName + ".key"),
                clients.resolve("ca.crt"), null);
    }

    /**
     * Creates the folder's contents. Refuses to touch a folder that already has files in it, so
     * an existing KEK or CA is never overwritten.
     */
    public AdminCredentials create(Options options, Clock clock) {
        try {
            if (Files.exists(dir)) {
                try (var entries = Files.list(dir)) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalStateException("folder " + dir + " is not empty; refusing to overwrite it "
                                + "(choose a new folder, or start the existing one with: tresor server --config "
                                + config() + ")");
                    }
                }
            }
            Files.createDirectories(dir);
            setOwnerOnly(dir);
            LocalKeyProvider kek = LocalKeyProvider.create(dir.resolve("kek.json"));

            CertificateAuthority ca = CertificateAuthority.create(options.trustDomain(), Duration.ofDays(3650), clock);
            ca.save(dir.resolve("ca.crt"), dir.resolve("ca.key"), kek);

            List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
            for (String n : options.serverNames()) {
                if (!names.contains(n)) {
                    names.add(n);
                }
            }
            KeyPair serverKeys = KeyPairs.generateP256();
            IssuedCertificate server = ca.issueServer(serverKeys.getPublic(), names, Duration.ofDays(365));
            Pem.writeCertificates(dir.resolve("server.crt"), server.chain());
            Pem.writePrivateKey(dir.resolve("server.key"), serverKeys.getPrivate());

            String adminIdentity = "spiffe://" + options.trustDomain() + "/client/" + options.adminName();
            Path clients = options.adminOut() == null ? dir.resolve("clients") : options.adminOut().toAbsolutePath().normalize();
            Files.createDirectories(clients);
            setOwnerOnly(clients);
            KeyPair adminKeys = KeyPairs.generateP256();
            IssuedCertificate admin = ca.issueClient(adminKeys.getPublic(), adminIdentity, options.adminCertTtl());
            AdminCredentials credentials = new AdminCredentials(clients.resolve(options.adminName() + ".crt"),
                    clients.resolve(options.adminName() + ".key"), clients.resolve("ca.crt"), adminIdentity);
            Pem.writeCertificates(credentials.cert(), admin.chain());
            Pem.writePrivateKey(credentials.key(), adminKeys.getPrivate());
            Pem.writeCertificates(credentials.ca(), List.of(ca.certificate()));

            Files.writeString(config(), configYaml(options), StandardCharsets.UTF_8);

            try (Store store = Stores.open(StoreConfig.sqlite(dir.resolve("tresor.db")))) {
                Tresor.open(store, kek, IntegrityMonitor.NONE, clock).bootstrapAdmin(options.adminName(), adminIdentity);
            }
            return credentials;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Issues a fresh server certificate if the current one expires within {@code margin} (dev folders live long). */
    public boolean renewServerCertificateIfExpiring(Duration margin, Clock clock) {
        // server.crt holds the chain (leaf first); keep every name the old leaf carried.
        X509Certificate current = Pem.readCertificates(dir.resolve("server.crt")).getFirst();
        if (current.getNotAfter().toInstant().isAfter(clock.instant().plus(margin))) {
            return false;
        }
        CertificateAuthority ca = CertificateAuthority.load(dir.resolve("ca.crt"), dir.resolve("ca.key"), keyProvider(), clock);
        KeyPair keys = KeyPairs.generateP256();
        List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
            if (current.getSubjectAlternativeNames() != null) {
                for (List<?> san : current.getSubjectAlternativeNames()) {
                    // 2 = DNS name, 7 = IP address
                    if ((Integer.valueOf(2).equals(san.get(0)) || Integer.valueOf(7).equals(san.get(0)))
                            && !names.contains(String.valueOf(san.get(1)))) {
                        names.add(String.valueOf(san.get(1)));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw new IllegalStateException("server.crt has unreadable subject alternative names", e);
        }
        IssuedCertificate server = ca.issueServer(keys.getPublic(), names, Duration.ofDays(365));
        Pem.writePrivateKey(dir.resolve("server.key.new"), keys.getPrivate());
        Pem.writeCertificates(dir.resolve("server.crt.new"), server.chain());
        try {
            Files.move(dir.resolve("server.key.new"), dir.resolve("server.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(dir.resolve("server.crt.new"), dir.resolve("server.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    /** The KEK this folder's config names (the CA key is sealed by it). */
    public dev.tresor.crypto.KeyProvider keyProvider() {
        return ConfigLoader.load(config()).openKeyProvider(System.getenv());
    }

    private static void setOwnerOnly(Path dir) throws IOException {
        try {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system; keys are still written owner-only where supported.
        }
    }

    static String configYaml(Options o) {
        return """
                # Tresor server configuration. Relative paths are resolved against this file's folder.
                # Reference: docs/configuration.md

                # SPIFFE trust domain of the identities this server's CA issues.
                trustDomain: %s

                listen:
                  # The mTLS API (client certificates required). HOST:PORT; port 0 = any free port.
                  api: "%s"
                  # Plain-HTTP probes and metrics (/healthz, /readyz, /metrics), trust bundle and CRL
                  # (/v1/ca/bundle, /v1/ca/crl). Keep it internal.
                  management: "%s"
                  # Join port: TLS without client certificates, POST /v1/join only (workloads trading
                  # a join token from `tresor token create` for their first certificate).
                  # join: "0.0.0.0:7444"

                tls:
                  cert: server.crt        # server certificate chain (PEM)
                  key: server.key         # its private key (PEM, 0600)
                  clientCa: ca.crt        # CA bundle that client certificates must chain to
                  protocols: [TLSv1.3, TLSv1.2]

                # The built-in CA: POST /v1/ca/sign (admins), /v1/ca/renew (a client for itself),
                # /v1/join (join tokens). Rotate with `tresor ca rotate` (adds ca.previous).
                ca:
                  cert: ca.crt
                  key: ca.key
                  defaultTtl: 24h
                  maxTtl: 397d

                store:
                  kind: sqlite            # sqlite | postgresql
                  path: tresor.db
                  # kind: postgresql
                  # url: jdbc:postgresql://db.internal:5432/tresor
                  # user: tresor
                  # passwordFile: pg-password   # or password: ...
                  # poolSize: 10

                keyProvider:
                  kind: local             # the KEK in a keyset file, mode 0600
                  path: kek.json

                audit:
                  writeTimeout: 2s        # no sink wrote within this -> the request fails with 503
                  fsyncInterval: 50ms     # group commit; 0ms = fsync every record before answering
                  sinks:
                    - kind: file
                      path: audit.log

                limits:
                  maxBodyBytes: %d        # request bodies above this get 413
                  idleTimeout: 60s

                # Logs go to stderr: text or json lines; every request's lines carry its request id.
                logging:
                  format: text
                  level: info             # Tresor's own loggers; libraries stay at warn
                """.formatted(o.trustDomain(), o.apiListen(), o.managementListen(),
                dev.tresor.server.config.ConfigLoader.DEFAULT_MAX_BODY);
    }
}
