package dev.tresor.store;

import dev.tresor.crypto.SoftHsmKeks;
import org.junit.jupiter.api.Nested;

/**
 * The whole store contract ({@link StoreContractTest}) with the pkcs11 provider: the KEK of the
 * tests that open a Tresor is a fresh key on a real SoftHSM2 token (SunPKCS11), on SQLite and
 * PostgreSQL.
 */
class Pkcs11StoreContractTest {

    @Nested
    class SQLite extends StoreContractTest.Contract {
        SQLite() {
            super(TestDatabase.Kind.SQLITE, new SoftHsmKeks("contract-sqlite"));
        }
    }

    @Nested
    class PostgreSQL extends StoreContractTest.Contract {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL, new SoftHsmKeks("contract-pg"));
        }
    }
}
