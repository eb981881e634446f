package dev.tresor.server;

import dev.tresor.testkit.TestServerConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import dev.tresor.testkit.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad config is refused at start with a message that names the field to fix: problems in
 * the file by {@link ConfigLoader}, problems with what it points at by {@link TresorServer#start}.
 */
class ConfigLoaderTest {

    private static final String VALID = TestServerConfig.sqlite().yaml();

    @TempDir
    Path dir;

    private TestPki pki;

    @BeforeEach
    void files() throws IOException {
        pki = TestServerConfig.writeTls(dir, "Config Test CA");
        LocalKeyProvider.create(dir.resolve("kek.json"));
        Files.setPosixFilePermissions(dir.resolve("kek.json"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(dir.resolve("pg-password"), "secret\n");
    }

    private ServerSettings parse(String yaml) {
        return ConfigLoader.parse(yaml, dir);
    }

    private static String edit(String from, String to) {
        if (!VALID.contains(from)) {
            throw new IllegalArgumentException("not in the valid config: " + from);
        }
        return VALID.replace(from, to);
    }

    @Test
    void aValidConfigIsResolvedWithDefaults() {
        ServerSettings s = parse(VALID);
        assertThat(s.trustDomain()).isEqualTo("tresor.test");
        assertThat(s.apiAddress().getPort()).isZero();
        assertThat(s.tlsCert()).isEqualTo(dir.resolve("server.crt"));
        assertThat(s.tlsProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(s.store().kind()).isEqualTo("sqlite");
        assertThat(s.store().sqlitePath()).isEqualTo(dir.resolve("tresor.db"));
        assertThat(s.logging()).isEqualTo(ServerSettings.Logging.DEFAULT);
        assertThat(parse(VALID + "logging:\n  format: json\n  level: DEBUG\n  levels:\n    org.flywaydb: info\n").logging())
                .isEqualTo(new ServerSettings.Logging(true, "debug", java.util.Map.of("org.flywaydb", "info")));
        assertThat(s.auditWriteTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.auditFsyncInterval()).isEqualTo(Duration.ofMillis(20));
        assertThat(s.auditFiles()).containsExactly(dir.resolve("audit.log"));
        assertThat(s.auditSegments()).isEqualTo(new dev.tresor.audit.SegmentPolicy(256L << 20, null));
        assertThat(s.auditCopies()).isEmpty();
        assertThat(parse(edit("fsyncInterval: 20ms", "fsyncInterval: 20ms\n  segmentSize: 1GiB\n  segmentAge: 24h"))
                .auditSegments()).isEqualTo(new dev.tresor.audit.SegmentPolicy(1L << 30, Duration.ofHours(24)));
        assertThat(s.maxBodyBytes()).isEqualTo(ConfigLoader.DEFAULT_MAX_BODY);
        assertThat(s.caCert()).isNull();
        ServerSettings pg = parse(edit("  kind: sqlite\n  path: tresor.db\n",
                "  kind: postgresql\n  url: jdbc:postgresql://db:5432/tresor\n  user: tresor\n  passwordFile: pg-password\n"));
        assertThat(pg.store().password()).isEqualTo("secret");
        assertThat(pg.store().toString()).doesNotContain("secret");
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of(edit("trustDomain: tresor.test\n", "trustDomain: tresor.test\ncolour: red\n"), "colour: unknown field"),
                Arguments.of(edit("  clientCa: ca.crt\n", "  clientCa: ca.crt\n  cipher: weak\n"), "tls.cipher: unknown field"),
                Arguments.of(edit("      path: audit.log\n", "      path: audit.log\n      rotate: daily\n"), "audit.sinks[0].rotate: unknown field"),
                Arguments.of(edit("trustDomain: tresor.test", "trustDomain: Not A Domain"), "trustDomain:"),
                Arguments.of(edit("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:99999\""), "listen.api: port 99999 is out of range"),
                Arguments.of(edit("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:-1\""), "listen.api: port -1 is out of range"),
                Arguments.of(edit("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:https\""), "listen.api: port in"),
                Arguments.of(edit("api: \"127.0.0.1:0\"", "api: \"localhost\""), "listen.api: 'localhost' must be HOST:PORT"),
                Arguments.of(edit("api: \"127.0.0.1:0\"", "api: [1, 2]"), "listen.api:"),
                Arguments.of(edit("  api: \"127.0.0.1:0\"\n", ""), "listen.api: required"),
                Arguments.of(edit("management: \"127.0.0.1:0\"", "management: \"127.0.0.1:70000\""), "listen.management: port 70000"),
                Arguments.of(edit("listen:\n  api: \"127.0.0.1:0\"\n  management: \"127.0.0.1:0\"\n", ""), "listen: required"),
                Arguments.of(edit("cert: server.crt", "cert: missing.crt"), "tls.cert: file"),
                Arguments.of(edit("key: server.key", "key: nowhere/server.key"), "tls.key: file"),
                Arguments.of(edit("clientCa: ca.crt", "clientCa: \"\""), "tls.clientCa: required"),
                Arguments.of(edit("  clientCa: ca.crt\n", "  clientCa: ca.crt\n  protocols: [TLSv1.1]\n"), "tls.protocols: 'TLSv1.1' is not allowed"),
                Arguments.of(edit("  clientCa: ca.crt\n", "  clientCa: ca.crt\n  protocols: []\n"), "tls.protocols: list at least one"),
                Arguments.of(edit("  kind: sqlite\n", "  kind: mysql\n"), "store.kind: 'mysql' is not supported"),
                Arguments.of(edit("  path: tresor.db\n", ""), "store.path: required"),
                Arguments.of(edit("  kind: sqlite\n  path: tresor.db\n", "  kind: postgresql\n"), "store.url: required"),
                Arguments.of(edit("  kind: sqlite\n  path: tresor.db\n", "  kind: postgresql\n  url: http://db/tresor\n"), "store.url:"),
                Arguments.of(edit("  kind: sqlite\n  path: tresor.db\n",
                        "  kind: postgresql\n  url: jdbc:postgresql://db/t\n  password: a\n  passwordFile: pg-password\n"), "store.passwordFile: give either"),
                Arguments.of(edit("  kind: sqlite\n  path: tresor.db\n",
                        "  kind: postgresql\n  url: jdbc:postgresql://db/t\n  passwordFile: nope\n"), "store.passwordFile: file"),
                Arguments.of(edit("  path: tresor.db\n", "  path: tresor.db\n  poolSize: 0\n"), "store.poolSize:"),
                Arguments.of(edit("  path: tresor.db\n", "  path: tresor.db\n  poolSize: many\n"), "store.poolSize:"),
                Arguments.of(edit("store:\n  kind: sqlite\n  path: tresor.db\n", ""), "store: required"),
                Arguments.of(edit("  kind: local\n", "  kind: gcpkms\n"), "keyProvider.kind: 'gcpkms' is not available"),
                Arguments.of(edit("  kind: local\n", "  kind: awskms\n"), "keyProvider.path: not used by keyProvider.kind 'awskms'"),
                Arguments.of(edit("  kind: local\n  path: kek.json\n", "  kind: pkcs11\n  library: /usr/lib/softhsm/libsofthsm2.so\n"
                        + "  keyLabel: kek\n  pin: '1234'\n"), "keyProvider.pin: the HSM PIN never goes in the config"),
                Arguments.of(edit("  kind: local\n  path: kek.json\n", "  kind: pkcs11\n  library: /usr/lib/softhsm/libsofthsm2.so\n"
                        + "  keyLabel: kek\n"), "keyProvider.pinFile: give exactly one of pinFile or pinEnv"),
                Arguments.of(edit("  kind: local\n  path: kek.json\n", "  kind: pkcs11\n  library: /usr/lib/softhsm/libsofthsm2.so\n"
                        + "  pinEnv: TRESOR_HSM_PIN\n"), "keyProvider.keyLabel: required"),
                Arguments.of(edit("  kind: local\n  path: kek.json\n", "  kind: pkcs11\n  path: kek.json\n"
                        + "  library: /usr/lib/softhsm/libsofthsm2.so\n  keyLabel: kek\n  pinEnv: P\n"), "keyProvider.path: not used"),
                Arguments.of(edit("  path: kek.json\n", "  path: kek.json\n  keyLabel: kek\n"), "keyProvider.keyLabel: not used"),
                Arguments.of(edit("  path: kek.json\n", "  path: other.json\n"), "keyProvider.path: file"),
                Arguments.of(edit("writeTimeout: 2s", "writeTimeout: soon"), "audit.writeTimeout"),
                Arguments.of(edit("writeTimeout: 2s", "writeTimeout: 0s"), "audit.writeTimeout: must be more than 0"),
                Arguments.of(edit("writeTimeout: 2s", "writeTimeout: PT-2S"), "audit.writeTimeout: must not be negative"),
                Arguments.of(edit("fsyncInterval: 20ms", "fsyncInterval: 20 parsecs"), "audit.fsyncInterval"),
                Arguments.of(edit("fsyncInterval: 20ms", "fsyncInterval: 20ms\n  segmentSize: 1TB"), "audit.segmentSize: '1TB' is not a size"),
                Arguments.of(edit("fsyncInterval: 20ms", "fsyncInterval: 20ms\n  segmentSize: 1KiB"), "audit.segmentSize: must be at least 64KiB"),
                Arguments.of(edit("fsyncInterval: 20ms", "fsyncInterval: 20ms\n  segmentAge: 10s"), "audit.segmentAge: must be at least 1m"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks: []\n"), "audit.sinks: list at least one"),
                Arguments.of(edit("    - kind: file\n", "    - kind: kafka\n"), "audit.sinks[0].kind: must be 'file', 'syslog' or 'stdout'"),
                Arguments.of(edit("    - kind: file\n", "    - kind: syslog\n"), "audit.sinks[0].address: required"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks:\n    - kind: syslog\n      address: \"siem:6514\"\n      ca: ca.crt\n"),
                        "audit.sinks: at least one sink must be kind 'file'"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks:\n    - kind: file\n      path: audit.log\n" + "    - kind: syslog\n      address: siem\n      ca: ca.crt\n"),
                        "audit.sinks[1].address: 'siem' must be HOST:PORT"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks:\n    - kind: file\n      path: audit.log\n" + "    - kind: syslog\n      address: \"siem:6514\"\n"),
                        "audit.sinks[1].ca: required"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks:\n    - kind: file\n      path: audit.log\n" + "    - kind: syslog\n      address: \"siem:6514\"\n      ca: ca.crt\n      cert: c.crt\n"),
                        "audit.sinks[1].key: give both"),
                Arguments.of(edit("  sinks:\n    - kind: file\n      path: audit.log\n", "  sinks:\n    - kind: file\n      path: audit.log\n" + "    - kind: stdout\n      mode: sometimes\n"),
                        "audit.sinks[1].mode: must be 'best-effort'"),
                Arguments.of(edit("      path: audit.log\n", "      path: audit.log\n      mode: best-effort\n"),
                        "audit.sinks[0].mode: a file sink is the evidence"),
                Arguments.of(edit("      path: audit.log\n", ""), "audit.sinks[0].path: required"),
                Arguments.of(VALID + "limits:\n  maxBodyBytes: 10\n", "limits.maxBodyBytes: must be between"),
                Arguments.of(VALID + "limits:\n  maxBodyBytes: lots\n", "limits.maxBodyBytes:"),
                Arguments.of(VALID + "limits:\n  idleTimeout: a while\n", "limits.idleTimeout"),
                Arguments.of(VALID + "limits:\n  maxConnections: 0\n", "limits.maxConnections: must be at least 1"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: nope.key\n", "ca.key: file"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: server.key\n  defaultTtl: 10d\n  maxTtl: 7d\n", "ca.defaultTtl:"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: server.key\n  defaultTtl: 0s\n", "ca.defaultTtl: must be at least 1m"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: server.key\n  defaultTtl: 30s\n", "ca.defaultTtl: must be at least 1m"),
                Arguments.of(VALID.replace("listen:\n", "listen:\n  join: \"127.0.0.1:0\"\n"), "listen.join: the join port"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: server.key\n  maxTtl: 500d\n", "ca.maxTtl: must be at least 1m and at most 397d"),
                Arguments.of(VALID + "ca:\n  cert: ca.crt\n  key: server.key\n  maxTtl: long\n", "ca.maxTtl"),
                Arguments.of(VALID + "logging:\n  format: xml\n", "logging.format: must be text or json"),
                Arguments.of(VALID + "logging:\n  level: loud\n", "logging.level: must be one of"),
                Arguments.of(VALID + "logging:\n  levels:\n    \"a b\": info\n", "logging.levels: 'a b' is not a logger name"),
                Arguments.of(VALID + "logging:\n  levels:\n    org.eclipse.jetty.server: debug\n",
                        "logging.levels.org.eclipse.jetty.server: at most info"));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void badConfigsAreRefusedNamingTheField(String yaml, String expected) {
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class).hasMessageStartingWith(expected)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("dev.tresor").doesNotContain("Exception"));
    }

    @Test
    void brokenFilesAreRefusedWithAMessage() throws IOException {
        assertThatThrownBy(() -> parse("listen:\n  api: \"unterminated\n")).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("config is not valid YAML");
        assertThatThrownBy(() -> parse("")).isInstanceOf(ConfigException.class).hasMessage("config is empty");
        assertThatThrownBy(() -> parse("# only a comment\n\n")).isInstanceOf(ConfigException.class).hasMessage("config is empty");
        assertThatThrownBy(() -> parse("- a\n- b\n")).isInstanceOf(ConfigException.class).hasMessageStartingWith("config:");
        assertThatThrownBy(() -> parse(VALID + "logging:\n  format: json\n" + "logging:\n  level: debug\n"))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("config: field 'logging' is given twice");
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("absent.yaml"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not exist");
        Files.writeString(dir.resolve("tresor.yaml"), VALID);
        assertThat(ConfigLoader.load(dir.resolve("tresor.yaml")).keyFile()).isEqualTo(dir.resolve("kek.json"));
    }

    // ------------------------------------------------------------------ refused at start

    private void assertStartRefused(String yaml, String field, String fragment) {
        ServerSettings settings = parse(yaml);
        assertThatThrownBy(() -> TresorServer.start(settings).close()).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(field + ":").hasMessageContaining(fragment);
    }

    @Test
    void anHsmThatIsNotThereIsRefusedAtStartNamingTheFix() throws IOException {
        Files.writeString(dir.resolve("hsm-pin"), "1234\n");
        String pkcs11 = "  kind: pkcs11\n  library: no-such-libsofthsm2.so\n  keyLabel: kek\n  pinFile: hsm-pin\n";
        assertStartRefused(edit("  kind: local\n  path: kek.json\n", pkcs11), "keyProvider",
                "apt-get install softhsm2");
        // The PIN's source is named, never the PIN.
        assertThat(parse(edit("  kind: local\n  path: kek.json\n", pkcs11)).toString()).doesNotContain("1234");
    }

    @Test
    void aSealedKeyFileNeedsOnePassphraseSourceAndTheConfigNeverHoldsThePassphrase() throws IOException {
        String keyId = LocalKeyProvider.load(dir.resolve("kek.json")).keyId();
        Path pass = dir.resolve("kek.pass");
        Files.writeString(pass, "correct horse battery staple\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        String withFile = edit("  path: kek.json\n", "  path: kek.json\n  passphraseFile: kek.pass\n");
        String withEnv = edit("  path: kek.json\n", "  path: kek.json\n  passphraseEnv: TRESOR_TEST_KEK_PASS\n");

        // Before the file is sealed: a passphrase source beside a clear key file is a mistake.
        assertThatThrownBy(() -> parse(withFile)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("keyProvider.passphraseFile: key file").hasMessageContaining("is not sealed");
        assertThatThrownBy(() -> parse(edit("  path: kek.json\n", "  path: kek.json\n  passphrase: hunter2hunter2\n")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("keyProvider.passphrase: the passphrase never goes")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> parse(edit("  kind: local\n  path: kek.json\n", "  kind: pkcs11\n"
                + "  library: /usr/lib/softhsm/libsofthsm2.so\n  keyLabel: kek\n  pinEnv: P\n  passphraseFile: kek.pass\n")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("keyProvider.passphraseFile: not used");

        LocalKeyProvider.reseal(dir.resolve("kek.json"), null, "correct horse battery staple".toCharArray());
        assertThat(LocalKeyProvider.isSealed(dir.resolve("kek.json"))).isTrue();
        // No source named: asked on the terminal at start; a test JVM has none, so the start is refused naming both fields.
        assertThat(parse(VALID).keyPassphrase().prompt()).isNotNull();
        assertThatThrownBy(() -> parse(VALID).openKeyProvider(java.util.Map.of()))
                .hasMessageContaining("is sealed by a passphrase").hasMessageContaining("no terminal")
                .hasMessageContaining("keyProvider.passphraseFile").hasMessageContaining("keyProvider.passphraseEnv");
        assertThatThrownBy(() -> parse(edit("  path: kek.json\n",
                "  path: kek.json\n  passphraseFile: kek.pass\n  passphraseEnv: X\n")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("keyProvider.passphraseFile: give either");

        ServerSettings sealed = parse(withFile);
        assertThat(sealed.openKeyProvider(java.util.Map.of()).keyId()).isEqualTo(keyId);
        assertThat(sealed.toString()).doesNotContain("correct horse");
        assertThat(parse(withEnv).openKeyProvider(java.util.Map.of("TRESOR_TEST_KEK_PASS", "correct horse battery staple"))
                .keyId()).isEqualTo(keyId);
        assertThatThrownBy(() -> parse(withEnv).openKeyProvider(java.util.Map.of()))
                .hasMessageContaining("TRESOR_TEST_KEK_PASS").hasMessageContaining("is not set");

        // A wrong passphrase, or a passphrase file others can read, stops the start and names the source.
        Files.writeString(pass, "wrong horse battery staple\n");
        assertStartRefused(withFile, "keyProvider.path", "the passphrase does not open key file");
        assertStartRefused(withFile, "keyProvider.path", "keyProvider.passphraseFile");
        Files.writeString(pass, "correct horse battery staple\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-r--r--"));
        assertStartRefused(withFile, "keyProvider.path", "it must be 0600");
    }

    @Test
    void aKeyFileOthersCanReadIsRefusedAtStart() throws IOException {
        Files.setPosixFilePermissions(dir.resolve("kek.json"), PosixFilePermissions.fromString("rw-r--r--"));
        assertStartRefused(VALID, "keyProvider.path", "mode");
    }

    @Test
    void tlsFilesThatAreNotCertificatesOrKeysAreRefusedAtStart() throws IOException {
        Files.writeString(dir.resolve("junk.crt"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        assertStartRefused(edit("cert: server.crt", "cert: junk.crt"), "tls", "junk.crt");
        pki.server("localhost").writePem(dir, "other");
        assertStartRefused(edit("key: server.key", "key: other.key"), "tls", "");
    }

    @Test
    void unusableCasAreRefusedAtStart() throws IOException {
        // The test CA has no spiffe:// trust-domain name, so it cannot be the issuing CA.
        Files.writeString(dir.resolve("test-ca.key"), TestPki.pem(pki.caKey()));
        Files.setPosixFilePermissions(dir.resolve("test-ca.key"), PosixFilePermissions.fromString("rw-------"));
        assertStartRefused(VALID + "ca:\n  cert: ca.crt\n  key: test-ca.key\n", "ca", "trust domain");

        CertificateAuthority other = CertificateAuthority.create("elsewhere.test", Duration.ofDays(30), Clock.systemUTC());
        LocalKeyProvider kek = LocalKeyProvider.load(dir.resolve("kek.json"));
        other.save(dir.resolve("other-ca.crt"), dir.resolve("other-ca.key"), kek);
        assertStartRefused(VALID + "ca:\n  cert: other-ca.crt\n  key: other-ca.key\n", "ca.cert", "elsewhere.test");

        CertificateAuthority mine = CertificateAuthority.create("tresor.test", Duration.ofDays(30), Clock.systemUTC());
        mine.save(dir.resolve("my-ca.crt"), dir.resolve("my-ca.key"), kek);
        Files.setPosixFilePermissions(dir.resolve("my-ca.key"), PosixFilePermissions.fromString("rw-r--r--"));
        assertStartRefused(VALID + "ca:\n  cert: my-ca.crt\n  key: my-ca.key\n", "ca", "mode");
        Files.setPosixFilePermissions(dir.resolve("my-ca.key"), PosixFilePermissions.fromString("rw-------"));
        TresorServer.start(parse(VALID + "ca:\n  cert: my-ca.crt\n  key: my-ca.key\n")).close();
    }

    @Test
    void aPortInUseIsRefusedAtStartAndReleasesEverything() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertStartRefused(edit("api: \"127.0.0.1:0\"", "api: \"127.0.0.1:" + port + "\""), "listen.api", String.valueOf(port));
            assertStartRefused(edit("management: \"127.0.0.1:0\"", "management: \"127.0.0.1:" + port + "\""),
                    "listen.management", String.valueOf(port));
        }
        // The failed starts closed the store and released the audit log's lock.
        try (TresorServer server = TresorServer.start(parse(VALID))) {
            assertThat(server.apiPort()).isPositive();
        }
    }

    @Test
    void aStoreMadeWithAnotherKekIsRefusedAtStart() throws IOException {
        TresorServer.start(parse(VALID)).close();
        Files.move(dir.resolve("kek.json"), dir.resolve("kek.json.old"));
        LocalKeyProvider.create(dir.resolve("kek.json"));
        Files.setPosixFilePermissions(dir.resolve("kek.json"), PosixFilePermissions.fromString("rw-------"));
        Files.move(dir.resolve("audit.log"), dir.resolve("audit.log.old"));
        Files.move(dir.resolve("audit.log.anchor"), dir.resolve("audit.log.anchor.old"));
        // The store holds a checkpoint of the moved log; accepting that lets the start reach the store's own key.
        ServerSettings settings = parse(VALID).withAcceptRollback("the log was moved aside to try another KEK");
        assertThatThrownBy(() -> TresorServer.start(settings).close()).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("keyProvider.path:").hasMessageContaining("cannot unwrap");
    }

    @Test
    void aDatabaseThatRefusesTheLoginIsRefusedAtStartWithoutLeakingThePassword() {
        PostgresDatabase db = EmbeddedPostgres.freshDatabase();
        String yaml = edit("  kind: sqlite\n  path: tresor.db\n", "  kind: postgresql\n  url: \"" + db.jdbcUrl() + "\"\n  user: "
                + db.user() + "\n  password: \"wrong-" + db.password() + "\"\n");
        ServerSettings settings = parse(yaml);
        assertThatThrownBy(() -> TresorServer.start(settings).close()).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("store:")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(db.password()));
        String good = edit("  kind: sqlite\n  path: tresor.db\n", "  kind: postgresql\n  url: \"" + db.jdbcUrl() + "\"\n  user: "
                + db.user() + "\n  password: \"" + db.password() + "\"\n");
        try (TresorServer server = TresorServer.start(parse(good))) {
            assertThat(server.apiPort()).isPositive();
        }
        assertThat(List.of(dir.resolve("audit.log"))).allMatch(Files::isRegularFile);
    }
}
