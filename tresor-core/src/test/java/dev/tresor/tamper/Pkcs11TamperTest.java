package dev.tresor.tamper;

import dev.tresor.crypto.SoftHsmKeks;
import dev.tresor.store.TestDatabase;
import org.junit.jupiter.api.Nested;

/**
 * The whole tamper suite ({@link TamperTest}) with the pkcs11 provider: every KEK is a fresh
 * non-extractable AES-256 key on a real SoftHSM2 token (SunPKCS11), on SQLite and PostgreSQL.
 * What the suite checks about the local key file's bytes does not apply: a token key has none
 * outside the token.
 */
class Pkcs11TamperTest {

    @Nested
    class SQLite extends TamperTest.Attacks {
        SQLite() {
            super(TestDatabase.Kind.SQLITE, new SoftHsmKeks("tamper-sqlite"));
        }
    }

    @Nested
    class PostgreSQL extends TamperTest.Attacks {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL, new SoftHsmKeks("tamper-pg"));
        }
    }
}
