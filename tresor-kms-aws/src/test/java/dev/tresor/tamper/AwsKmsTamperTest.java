package dev.tresor.tamper;

import dev.tresor.crypto.awskms.LocalKmsKeks;
import dev.tresor.store.TestDatabase;
import dev.tresor.testkit.kms.LocalKms;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/**
 * The whole tamper suite ({@link TamperTest}) with the awskms provider: every KEK is a key of
 * the testkit's local KMS server (a fresh server per test), on SQLite and PostgreSQL. What the
 * suite checks about the local key file's bytes does not apply: a KMS key has none outside the KMS.
 */
class AwsKmsTamperTest {

    private final LocalKms kms = LocalKms.start("eu-central-1");

    @AfterEach
    void stopKms() {
        kms.close();
    }

    @Nested
    class SQLite extends TamperTest.Attacks {
        SQLite() {
            super(TestDatabase.Kind.SQLITE, new LocalKmsKeks(kms));
        }
    }

    @Nested
    class PostgreSQL extends TamperTest.Attacks {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL, new LocalKmsKeks(kms));
        }
    }
}
