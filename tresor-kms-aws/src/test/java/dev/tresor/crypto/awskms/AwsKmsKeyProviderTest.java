package dev.tresor.crypto.awskms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.crypto.KekUnavailableException;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.model.Failure;
import dev.tresor.model.PutSecret;
import dev.tresor.model.TresorException;
import dev.tresor.model.VersionSelector;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import dev.tresor.testkit.EmbeddedPostgres;
import dev.tresor.testkit.PostgresDatabase;
import dev.tresor.testkit.kms.LocalKms;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The awskms key provider against the local KMS server of the testkit (no real AWS KMS is
 * reachable from where this runs): the SDK signs with SigV4 and the server checks it, the
 * encryption context binds each wrap, a Tresor store on SQLite and PostgreSQL runs on the KMS key
 * with no KMS call per read, and wrong credentials, access denied, throttling and an unreachable
 * KMS each refuse the start naming the fix; a KMS lost, refusing or throttling later fails only
 * what needs the KEK.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwsKmsKeyProviderTest {

    private static final String ROOT = "spiffe://tresor.local/root";

    private LocalKms kms;

    @TempDir
    Path dir;

    @BeforeAll
    void startKms() {
        kms = LocalKms.start("eu-central-1");
    }

    @AfterAll
    void stopKms() {
        kms.close();
    }

    private AwsKmsKeyProvider.Settings settings(String keyId) {
        return new AwsKmsKeyProvider.Settings(keyId, kms.region(), kms.endpoint());
    }

    private AwsKmsKeyProvider open(String keyId) {
        return AwsKmsKeyProvider.open(settings(keyId), kms.environment());
    }

    private Map<String, String> environment(String name, String value) {
        Map<String, String> env = new HashMap<>(kms.environment());
        env.put(name, value);
        return env;
    }

    @Test
    void wrapsUnderTheKmsKeyAndKmsBindsTheAssociatedData() throws Exception {
        String arn = kms.createKey();
        kms.alias("alias/tresor-roundtrip", arn);
        AwsKmsKeyProvider kek = open("alias/tresor-roundtrip");
        assertThat(kek.keyId()).isEqualTo("awskms:" + arn); // the alias resolved to the key it names
        byte[] secret = "a keyring, a few hundred bytes..".getBytes(StandardCharsets.UTF_8);
        byte[] aad = dev.tresor.crypto.Canonical.of("tresor/keyring/v1").string("store-1").number(1).toBytes();
        byte[] one = kek.kek().encrypt(secret, aad);
        assertThat(one).isNotEqualTo(kek.kek().encrypt(secret, aad));
        assertThat(kek.kek().decrypt(one, aad)).isEqualTo(secret);

        // Another binding (another store id): KMS itself refuses the data key, as AWS does.
        long decrypts = kms.calls("Decrypt");
        byte[] otherStore = dev.tresor.crypto.Canonical.of("tresor/keyring/v1").string("store-2").number(1).toBytes();
        assertThatThrownBy(() -> kek.kek().decrypt(one, otherStore)).isInstanceOf(GeneralSecurityException.class)
                .isNotInstanceOf(KekUnavailableException.class);
        assertThat(kms.calls("Decrypt")).isEqualTo(decrypts + 1);
        byte[] flipped = one.clone();
        flipped[flipped.length - 1] ^= 1;
        assertThatThrownBy(() -> kek.kek().decrypt(flipped, aad)).isInstanceOf(GeneralSecurityException.class);

        // What KMS sees: the purpose, the store id and a digest of the whole binding.
        assertThat(KmsEncryptionContext.of(aad)).containsEntry("tresor:purpose", "tresor/keyring/v1")
                .containsEntry("tresor:store", "store-1").containsKey("tresor:aad");
        assertThat(KmsEncryptionContext.of("tresor/audit-chain-key/v1".getBytes(StandardCharsets.UTF_8)))
                .containsEntry("tresor:purpose", "tresor/audit-chain-key/v1").doesNotContainKey("tresor:store");

        // Another KMS key does not open it; by its ARN, the same key (a restart) does.
        AwsKmsKeyProvider other = open(kms.createKey());
        assertThatThrownBy(() -> other.kek().decrypt(one, aad)).isInstanceOf(GeneralSecurityException.class)
                .isNotInstanceOf(KekUnavailableException.class);
        assertThat(open(arn).kek().decrypt(one, aad)).isEqualTo(secret);
    }

    @Test
    void aTresorStoreRunsOnTheKmsKeyOnSqliteAndPostgresqlAndAReadCallsNoKms() throws Exception {
        String arn = kms.createKey();
        PostgresDatabase pg = EmbeddedPostgres.freshDatabase();
        for (StoreConfig config : List.of(StoreConfig.sqlite(dir.resolve("tresor.db")),
                StoreConfig.postgresql(pg.jdbcUrl(), pg.user(), pg.password()))) {
            try (Store store = Stores.open(config)) {
                Tresor tresor = Tresor.open(store, open(arn), IntegrityMonitor.NONE, Clock.systemUTC());
                tresor.bootstrapAdmin("root", ROOT);
                Caller root = tresor.authenticate(ROOT);
                tresor.createGroup(root, "g1", "readers");
                tresor.addMember(root, "g1", "root", dev.tresor.model.Role.WRITE);
                tresor.secrets().put(tresor.authenticate(ROOT), "app/db", new PutSecret(
                        "PW".getBytes(StandardCharsets.UTF_8), null, null, List.of("g1"), null, null, null), tresor.groupCheck());
                assertThat(tresor.keyringChanges().status().kekId()).isEqualTo("awskms:" + arn);
            }
            try (Store store = Stores.open(config)) {
                Tresor tresor = Tresor.open(store, open(arn), IntegrityMonitor.NONE, Clock.systemUTC());
                long before = kms.calls();
                for (int i = 0; i < 50; i++) {
                    assertThat(new String(tresor.secrets().read(tresor.authenticate(ROOT), "app/db",
                            VersionSelector.current(), false).value(), StandardCharsets.UTF_8)).isEqualTo("PW");
                }
                assertThat(kms.calls()).isEqualTo(before); // reads use the keyring in memory

                // KMS lost while the store runs: reads go on; a keyring change fails (503) and changes nothing.
                kms.down();
                try {
                    assertThat(tresor.secrets().read(tresor.authenticate(ROOT), "app/db", VersionSelector.current(),
                            false).value()).isEqualTo("PW".getBytes(StandardCharsets.UTF_8));
                    long version = tresor.keyringChanges().status().keyringVersion();
                    assertThatThrownBy(() -> tresor.keyringChanges().addPrimary())
                            .isInstanceOfSatisfying(TresorException.class,
                                    e -> assertThat(e.failure()).isEqualTo(Failure.UNAVAILABLE))
                            .hasMessageContaining("cannot be used now").hasMessageContaining("is not reachable");
                    assertThat(tresor.keyringChanges().status().keyringVersion()).isEqualTo(version);
                } finally {
                    kms.up();
                }
                // Access denied or throttled later: the same, each named.
                long version = tresor.keyringChanges().status().keyringVersion();
                kms.denyAccess(true);
                try {
                    assertThatThrownBy(() -> tresor.keyringChanges().addPrimary()).isInstanceOf(TresorException.class)
                            .hasMessageContaining("cannot be used now").hasMessageContaining("AccessDeniedException");
                } finally {
                    kms.denyAccess(false);
                }
                kms.throttleAlways();
                try {
                    assertThatThrownBy(() -> tresor.keyringChanges().addPrimary()).isInstanceOf(TresorException.class)
                            .hasMessageContaining("cannot be used now").hasMessageContaining("ThrottlingException");
                } finally {
                    kms.throttle(0);
                }
                assertThat(tresor.keyringChanges().status().keyringVersion()).isEqualTo(version);
                assertThat(tresor.secrets().read(tresor.authenticate(ROOT), "app/db", VersionSelector.current(),
                        false).value()).isEqualTo("PW".getBytes(StandardCharsets.UTF_8));
                assertThat(tresor.keyringChanges().addPrimary().after().version()).isGreaterThan(1);
            }
            // Another KMS key is another KEK: the store refuses to start and says so.
            String otherArn = kms.createKey();
            try (Store store = Stores.open(config)) {
                assertThatThrownBy(() -> Tresor.open(store, open(otherArn), IntegrityMonitor.NONE, Clock.systemUTC()))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("cannot unwrap this store's keyring")
                        .hasMessageContaining("awskms:" + otherArn)
                        .hasMessageContaining("wrapped by awskms:" + arn);
            }
        }
    }

    @Test
    void wrongCredentialsRefuseTheStartNamingWhereTheyCameFrom() {
        String arn = kms.createKey();
        assertThatThrownBy(() -> AwsKmsKeyProvider.open(settings(arn), environment("AWS_SECRET_ACCESS_KEY", "not-the-secret")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("refused the credentials")
                .hasMessageContaining("InvalidSignatureException")
                .hasMessageContaining("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
                .hasMessageNotContaining("not-the-secret");
        assertThatThrownBy(() -> AwsKmsKeyProvider.open(settings(arn), environment("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("refused the credentials")
                .hasMessageContaining("UnrecognizedClientException");
        Map<String, String> half = new HashMap<>(kms.environment());
        half.remove("AWS_SECRET_ACCESS_KEY");
        assertThatThrownBy(() -> AwsKmsKeyProvider.open(settings(arn), half))
                .hasMessageContaining("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        // Nothing was locked or lost: the right credentials open it.
        assertThat(open(arn).keyId()).isEqualTo("awskms:" + arn);
    }

    @Test
    void accessDeniedThrottlingAMissingKeyAndAnUnreachableKmsEachRefuseTheStartNamingTheFix() {
        String arn = kms.createKey();
        kms.denyAccess(true);
        try {
            assertThatThrownBy(() -> open(arn)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("denied access").hasMessageContaining("AccessDeniedException")
                    .hasMessageContaining("kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt");
        } finally {
            kms.denyAccess(false);
        }
        kms.throttle(2); // a short burst: the SDK's retries ride it out
        assertThat(open(arn).keyId()).isEqualTo("awskms:" + arn);
        kms.throttleAlways();
        try {
            assertThatThrownBy(() -> open(arn)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("throttled").hasMessageContaining("ThrottlingException")
                    .hasMessageContaining("raise the account's KMS request quota");
        } finally {
            kms.throttle(0);
        }
        assertThatThrownBy(() -> open("alias/never-created")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("NotFoundException").hasMessageContaining("fix keyProvider.keyId");
        kms.down();
        try {
            assertThatThrownBy(() -> open(arn)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is not reachable").hasMessageContaining("keyProvider.endpoint");
        } finally {
            kms.up();
        }
        assertThat(open(arn).keyId()).isEqualTo("awskms:" + arn);
    }

    @Test
    void theRegionComesFromTheSettingsTheArnOrTheEnvironmentAndCredentialsNeverFromTheSettings() {
        assertThat(new AwsKmsKeyProvider.Settings("arn:aws:kms:us-west-2:111122223333:key/k", null, null)
                .region(Map.of())).isEqualTo("us-west-2");
        assertThat(new AwsKmsKeyProvider.Settings("alias/a", null, null).region(Map.of("AWS_REGION", "ap-south-1")))
                .isEqualTo("ap-south-1");
        assertThatThrownBy(() -> new AwsKmsKeyProvider.Settings("alias/a", null, null).region(Map.of()))
                .hasMessageContaining("keyProvider.region");
        assertThat(List.of(AwsKmsKeyProvider.Settings.class.getRecordComponents())).extracting(c -> c.getName())
                .containsExactly("keyId", "region", "endpoint");
    }
}
