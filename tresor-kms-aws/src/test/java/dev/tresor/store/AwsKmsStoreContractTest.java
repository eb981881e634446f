package dev.tresor.store;

import dev.tresor.crypto.awskms.LocalKmsKeks;
import dev.tresor.testkit.kms.LocalKms;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/**
 * The whole store contract ({@link StoreContractTest}) with the awskms provider: the KEK of the
 * tests that open a Tresor is a key of the testkit's local KMS server (a fresh server per test),
 * on SQLite and PostgreSQL.
 */
class AwsKmsStoreContractTest {

    private final LocalKms kms = LocalKms.start("eu-central-1");

    @AfterEach
    void stopKms() {
        kms.close();
    }

    @Nested
    class SQLite extends StoreContractTest.Contract {
        SQLite() {
            super(TestDatabase.Kind.SQLITE, new LocalKmsKeks(kms));
        }
    }

    @Nested
    class PostgreSQL extends StoreContractTest.Contract {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL, new LocalKmsKeks(kms));
        }
    }
}
