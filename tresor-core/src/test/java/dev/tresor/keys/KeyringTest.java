package dev.tresor.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.Caller;
import dev.tresor.access.TresorFixture;
import dev.tresor.crypto.Keyring;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.TresorException;
import dev.tresor.model.Role;
import dev.tresor.store.TestDatabase;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The key hierarchy KEK → keyring → (data keys, row MAC key) on real SQLite and PostgreSQL: what a
 * fresh store stores, what a wrong KEK or a changed keyring row does, rotation of the keyring's
 * primary and of the KEK, and the one-time conversion of a store from before the keyring.
 */
class KeyringTest {

    @Nested
    class SQLite extends Cases {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Cases {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Cases {

        private final TestDatabase.Kind kind;
        TresorFixture f;
        TestDatabase db;

        Cases(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void setUp() {
            f = TresorFixture.create(kind);
            db = f.db;
            f.group("g1");
            f.group("g2");
            f.client("alice", false, Role.READ, "g1");
            f.put(f.root(), "app/db", "PW-1", "g1");
            f.put(f.root(), "app/db", "PW-2");
            f.put(f.root(), "app/other", "OTHER", "g1", "g2");
            f.put(f.root(), "app/gone", "GONE", "g1");
            f.tresor.secrets().delete(f.root(), "app/gone", true);
        }

        @AfterEach
        void tearDown() {
            f.close();
        }

        private void assertEverythingReads(Tresor tresor) {
            f.tresor = tresor;
            assertThat(f.read(f.auth("alice"), "app/db")).isEqualTo("PW-2");
            assertThat(f.read(f.auth("alice"), "app/db", new dev.tresor.model.VersionSelector(1, null))).isEqualTo("PW-1");
            assertThat(f.read(f.auth("alice"), "app/other")).isEqualTo("OTHER");
        }

        private Tresor openWith(dev.tresor.crypto.KeyProvider kek) {
            return Tresor.open(f.openStore(), kek, f.monitor, f.clock);
        }

        @Test
        void aFreshStoreWrapsItsKeysUnderTheKeyringAndTheKeyringUnderTheKek() throws Exception {
            Map<String, Object> ring = db.row("keyring", "id = 1");
            assertThat(ring.get("kek_id")).isEqualTo(f.kek.keyId());
            assertThat(((Number) ring.get("version")).longValue()).isEqualTo(1);
            Keyring keyring = LegacyStores.keyring(db, f.kek);
            assertThat(db.row("crypto_keys", "purpose = 'row-mac'").get("kek_id")).isEqualTo(keyring.keyId());
            List<Map<String, Object>> versions = db.rows("secret_versions", "wrapped_key IS NOT NULL");
            assertThat(versions).hasSize(3);
            for (Map<String, Object> v : versions) {
                assertThat(v.get("kek_id")).isEqualTo(keyring.keyId());
                byte[] wrapped = (byte[]) v.get("wrapped_key");
                assertThat(keyring.holdsKeyOf(wrapped)).isTrue();
                // The KEK itself opens none of them: reads never need it.
                byte[] context = dev.tresor.integrity.RowSeals.keyContext((String) v.get("secret_name"),
                        ((Number) v.get("version")).intValue(), LegacyStores.groups(db, (String) v.get("secret_name")));
                assertThatThrownBy(() -> f.kek.kek().decrypt(wrapped, context)).isInstanceOf(GeneralSecurityException.class);
            }
            assertThat(db.rows("keyring_migrations", null)).isEmpty();
            assertEverythingReads(f.reopen());
        }

        @Test
        void aStoreOpenedWithAnotherKekRefusesToStartSaysSoAndChangesNothing() {
            Map<String, Object> before = db.row("keyring", "id = 1");
            LocalKeyProvider other = LocalKeyProvider.create(f.dir.resolve("other-kek.json"));
            assertThatThrownBy(() -> openWith(other))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot unwrap this store's keyring")
                    .hasMessageContaining(other.keyId())
                    .hasMessageContaining(f.kek.keyId())
                    .hasMessageContaining("another KEK");
            assertThat(db.row("keyring", "id = 1")).usingRecursiveComparison().isEqualTo(before);
            assertEverythingReads(f.reopen());
        }

        @Test
        void aChangedKeyringRowRefusesToStart() {
            Map<String, Object> before = db.row("keyring", "id = 1");
            byte[] wrapped = ((byte[]) before.get("wrapped")).clone();
            wrapped[wrapped.length / 2] ^= 1;
            for (Runnable tamper : List.<Runnable>of(
                    () -> db.sql("UPDATE keyring SET wrapped = ?", wrapped),
                    () -> db.sql("UPDATE keyring SET version = version + 1"),
                    () -> db.sql("UPDATE keyring SET store_id = ?", "0".repeat(32)))) {
                tamper.run();
                assertThatThrownBy(f::reopen).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("cannot unwrap this store's keyring")
                        .hasMessageContaining("altered");
                db.sql("UPDATE keyring SET wrapped = ?, version = ?, store_id = ?", before.get("wrapped"),
                        before.get("version"), before.get("store_id"));
            }
            assertEverythingReads(f.reopen());
        }

        @Test
        void aNewPrimaryWrapsNewValuesAndAKeyringPutBackFromBeforeItRefusesToStart() throws Exception {
            Map<String, Object> oldRing = db.row("keyring", "id = 1");
            Map<String, Object> oldRowMac = db.row("crypto_keys", "purpose = 'row-mac'");
            Keyring before = LegacyStores.keyring(db, f.kek);
            Keyring after = f.tresor.keyringChanges().addPrimary().after();
            assertThat(after.version()).isEqualTo(before.version() + 1);
            assertThat(after.keyIds()).containsAll(before.keyIds()).hasSize(2);
            assertThat(after.keyId()).isNotEqualTo(before.keyId());

            Map<String, Object> newRing = db.row("keyring", "id = 1");
            Map<String, Object> newRowMac = db.row("crypto_keys", "purpose = 'row-mac'");

            // Only the keyring row put back: the row MAC key (moved under the new primary) no longer opens.
            db.sql("UPDATE keyring SET version = ?, wrapped = ? WHERE id = 1", oldRing.get("version"), oldRing.get("wrapped"));
            f.monitor.clear();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContaining("row MAC key");
            assertThat(f.monitor.subjects()).contains("crypto_keys");
            db.sql("UPDATE keyring SET version = ?, wrapped = ? WHERE id = 1", newRing.get("version"), newRing.get("wrapped"));

            Tresor restarted = f.reopen();
            assertEverythingReads(restarted); // older values open with the older key
            f.put(f.root(), "app/new", "NEW", "g1");
            byte[] newKey = (byte[]) db.row("secret_versions", "secret_name = 'app/new'").get("wrapped_key");
            assertThat(Keyring.keyIdOf(newKey)).isEqualTo(Integer.parseUnsignedInt(after.keyId().substring(8)));

            // Both put back: the value written since names a key the old keyring lacks.
            db.sql("UPDATE keyring SET version = ?, wrapped = ? WHERE id = 1", oldRing.get("version"), oldRing.get("wrapped"));
            db.sql("UPDATE crypto_keys SET kek_id = ?, wrapped = ? WHERE purpose = 'row-mac'", oldRowMac.get("kek_id"),
                    oldRowMac.get("wrapped"));
            f.monitor.clear();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("put back from an older copy");
            assertThat(f.monitor.subjects()).contains("keyring");

            db.sql("UPDATE keyring SET version = ?, wrapped = ? WHERE id = 1", newRing.get("version"), newRing.get("wrapped"));
            db.sql("UPDATE crypto_keys SET kek_id = ?, wrapped = ? WHERE purpose = 'row-mac'", newRowMac.get("kek_id"),
                    newRowMac.get("wrapped"));
            assertEverythingReads(f.reopen());
            assertThat(f.read(f.auth("alice"), "app/new")).isEqualTo("NEW");
        }

        @Test
        void rewrappingUnderANewKekChangesOneRowAndRetiresTheOldKek() {
            List<Map<String, Object>> versions = db.rows("secret_versions", null);
            List<Map<String, Object>> keys = db.rows("crypto_keys", null);
            LocalKeyProvider next = LocalKeyProvider.create(f.dir.resolve("kek-2.json"));
            KeyringChanges.Change change = f.tresor.keyringChanges().rewrapUnder(next);
            assertThat(change.after().version()).isEqualTo(2);
            assertThat(change.fromKekId()).isEqualTo(f.kek.keyId());
            assertThat(change.toKekId()).isEqualTo(next.keyId());
            assertThat(db.row("keyring", "id = 1").get("kek_id")).isEqualTo(next.keyId());
            assertThat(((Number) db.row("store_head", "id = 1").get("keyring_version")).longValue()).isEqualTo(2);
            // O(1): no data key and no internal key was touched.
            assertThat(db.rows("secret_versions", null)).usingRecursiveComparison().isEqualTo(versions);
            assertThat(db.rows("crypto_keys", null)).usingRecursiveComparison().isEqualTo(keys);
            // This node goes on under the new KEK.
            assertThat(f.tresor.keyProvider().keyId()).isEqualTo(next.keyId());
            assertEverythingReads(f.tresor);

            assertThatThrownBy(f::reopen).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot unwrap this store's keyring");
            assertEverythingReads(openWith(next));
        }

        @Test
        void statusNamesTheKekTheKeyringAndHowManyDataKeysEachKeyWraps() {
            KeyringChanges.Status first = f.tresor.keyringChanges().status();
            assertThat(first.kekId()).isEqualTo(f.kek.keyId());
            assertThat(first.keyringVersion()).isEqualTo(1);
            assertThat(first.keys()).isEqualTo(1);
            assertThat(first.dataKeysByKeyId()).containsExactly(Map.entry(first.primaryKeyId(), 3L));

            Tresor other = f.reopen();
            Keyring added = other.keyringChanges().addPrimary().after();
            f.put(f.root(), "app/third", "THIRD", "g1");
            KeyringChanges.Status now = f.tresor.keyringChanges().status();
            assertThat(now.keyringVersion()).isEqualTo(2);
            assertThat(now.primaryKeyId()).isEqualTo(added.keyId());
            assertThat(now.keys()).isEqualTo(2);
            assertThat(now.dataKeysByKeyId()).containsOnly(Map.entry(first.primaryKeyId(), 3L),
                    Map.entry(added.keyId(), 1L));
        }

        @Test
        void aKeyringAndRowMacKeyPutBackWithNoValueWrittenSinceNoLongerMatchTheStoreHead() {
            // The gap before schema 7: both rows put back and nothing written since passed every check.
            Map<String, Object> oldRing = db.row("keyring", "id = 1");
            Map<String, Object> oldRowMac = db.row("crypto_keys", "purpose = 'row-mac'");
            Tresor stale = f.reopen(); // a node that opened the keyring before the change
            f.tresor.keyringChanges().addPrimary();
            int versions = db.rows("secret_versions", null).size();

            db.sql("UPDATE keyring SET version = ?, wrapped = ? WHERE id = 1", oldRing.get("version"), oldRing.get("wrapped"));
            db.sql("UPDATE crypto_keys SET kek_id = ?, wrapped = ? WHERE purpose = 'row-mac'", oldRowMac.get("kek_id"),
                    oldRowMac.get("wrapped"));
            f.monitor.clear();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("the store head names keyring version 2 but the keyring row is at version 1")
                    .hasMessageContaining("put back from an older copy");
            assertThat(f.monitor.subjects()).contains("store head");

            // The node that made the change refuses to write under the older keyring.
            f.monitor.clear();
            assertThatThrownBy(() -> f.put(f.root(), "app/db", "PW-3")).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.violations()).anySatisfy(v -> assertThat(v.detail())
                    .contains("older than version 2 this node opened"));
            // A node still on the older keyring refuses too, from its first request: the store head
            // names the newer keyring, which the put-back keyring row cannot verify.
            f.monitor.clear();
            assertThatThrownBy(() -> stale.authenticate(TresorFixture.id(TresorFixture.ROOT)))
                    .isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.violations()).anySatisfy(v -> assertThat(v.detail())
                    .contains("store head is missing or does not verify over the keyring as stored"));
            assertThat(db.rows("secret_versions", null)).hasSize(versions);
        }

        @Test
        void anotherNodesNewPrimaryIsPickedUpByReadsAndWritesOfThisNode() throws Exception {
            Tresor other = f.reopen(); // a second node on the same database
            Keyring added = other.keyringChanges().addPrimary().after();
            Caller otherRoot = other.authenticate(TresorFixture.id(TresorFixture.ROOT));
            other.secrets().put(otherRoot, "app/new", TresorFixture.value("NEW"), other.groupCheck());
            other.grant(otherRoot, "g1", "app/new");
            assertThat(f.tresor.keyring().version()).isEqualTo(1);

            // A read meets a data key naming a key this node lacks: the keyring is re-read, not reported.
            assertThat(f.read(f.auth("alice"), "app/new")).isEqualTo("NEW");
            assertThat(f.tresor.keyring().version()).isEqualTo(added.version());

            // A write after yet another change: the keyring is read inside the transaction.
            Keyring again = other.keyringChanges().addPrimary().after();
            f.put(f.root(), "app/third", "THIRD", "g1");
            assertThat(f.tresor.keyring().version()).isEqualTo(again.version());
            byte[] wrapped = (byte[]) db.row("secret_versions", "secret_name = 'app/third'").get("wrapped_key");
            assertThat("keyring:" + Integer.toUnsignedString(Keyring.keyIdOf(wrapped))).isEqualTo(again.keyId());
            // Re-wrapping on a grant opens keys of every generation.
            f.tresor.grant(f.root(), "g2", "app/new");
            f.tresor.grant(f.root(), "g2", "app/third");
            Caller bob = f.client("bob", false, Role.READ, "g2");
            assertThat(f.read(bob, "app/new")).isEqualTo("NEW");
            assertThat(f.read(bob, "app/third")).isEqualTo("THIRD");
            Caller otherAlice = other.authenticate(TresorFixture.id("alice"));
            assertThat(new String(other.secrets().read(otherAlice, "app/third", dev.tresor.model.VersionSelector.current(),
                    false).value(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("THIRD");
            assertThat(f.monitor.violations()).isEmpty();
            assertEverythingReads(f.reopen());
        }

        @Test
        void aKekRewrapOnOneNodeLeavesTheOtherNodesWorkingUntilTheKeysChange() {
            Tresor other = f.reopen(); // still configured with the old KEK
            LocalKeyProvider next = LocalKeyProvider.create(f.dir.resolve("kek-2.json"));
            f.tresor.keyringChanges().rewrapUnder(next);

            // Same keys under a KEK it cannot open: the store head proves it, so the other node goes on.
            Caller otherRoot = other.authenticate(TresorFixture.id(TresorFixture.ROOT));
            other.secrets().put(otherRoot, "app/third", new dev.tresor.model.PutSecret(TresorFixture.bytes("THIRD"), null,
                    null, List.of("g1"), null, null, null), other.groupCheck());
            assertThat(other.keyring().version()).isEqualTo(2);
            assertThat(f.read(f.auth("alice"), "app/third")).isEqualTo("THIRD");
            // But it cannot change the keyring: its KEK is retired.
            assertThatThrownBy(() -> other.keyringChanges().rewrapUnder(next)).isInstanceOf(TresorException.class)
                    .hasMessageContaining("does not open the keyring").hasMessageContaining(next.keyId());

            // New keys under the new KEK: the other node needs the new KEK and says so.
            f.tresor.keyringChanges().addPrimary();
            assertThatThrownBy(() -> other.secrets().put(otherRoot, "app/third", TresorFixture.value("PW-4"), other.groupCheck()))
                    .isInstanceOf(TresorException.class)
                    .hasMessageContaining("wrapped by KEK " + next.keyId())
                    .hasMessageContaining("configure keyProvider for the new KEK")
                    .satisfies(e -> assertThat(((TresorException) e).failure()).isEqualTo(dev.tresor.model.Failure.UNAVAILABLE));
            assertThat(f.monitor.violations()).isEmpty();
            assertEverythingReads(openWith(next));
        }

        @Test
        void aStoreHeadSealedBeforeSchema7IsAcceptedOnlyWhileNothingOlderExistsAndThenResealed() throws Exception {
            LegacyStores.legacyStoreHead(db, f.kek);
            assertThat(db.row("store_head", "id = 1").get("keyring_version")).isNull();
            assertEverythingReads(f.reopen());
            assertThat(((Number) db.row("store_head", "id = 1").get("keyring_version")).longValue()).isEqualTo(1);

            // A head without a keyring version while the keyring has moved on: not one Tresor left there.
            f.tresor.keyringChanges().addPrimary();
            LegacyStores.legacyStoreHead(db, f.kek);
            f.monitor.clear();
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("binds no keyring version although the keyring is at version 2");
            // Nor can a running node be made to re-seal it.
            assertThatThrownBy(() -> f.put(f.root(), "app/db", "PW-3")).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.violations()).anySatisfy(v -> assertThat(v.detail()).contains("binds no keyring"));
        }

        @Test
        void aStoreFromBeforeTheKeyringIsConvertedOnItsFirstStartAndTheConversionRecorded() throws Exception {
            int moved = LegacyStores.downgrade(db, f.kek);
            assertThat(moved).isEqualTo(3);
            assertThat(db.rows("keyring", null)).isEmpty();

            List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            Tresor converted = Tresor.open(f.openStore(), f.kek, f.monitor, f.clock, seen::add);
            assertThat(seen).containsExactly(1L, 2L, 3L);
            Map<String, Object> record = db.row("keyring_migrations", "name = ?", KeyHierarchy.LEGACY_MIGRATION);
            assertThat(record.get("from_kek_id")).isEqualTo(f.kek.keyId());
            assertThat(((Number) record.get("rewrapped")).longValue()).isEqualTo(3);
            assertThat(((Number) record.get("unreadable")).longValue()).isZero();
            Keyring keyring = LegacyStores.keyring(db, f.kek);
            assertThat(db.rows("secret_versions", "wrapped_key IS NOT NULL"))
                    .allSatisfy(v -> assertThat(keyring.holdsKeyOf((byte[]) v.get("wrapped_key"))).isTrue());
            assertEverythingReads(converted);
            // The second start finds the keyring and converts nothing.
            seen.clear();
            assertEverythingReads(Tresor.open(f.openStore(), f.kek, f.monitor, f.clock, seen::add));
            assertThat(seen).isEmpty();

            // After the conversion, a deleted keyring row is named as such.
            db.sql("DELETE FROM keyring");
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class).hasMessageContaining("keyring row is missing");
        }

        @Test
        void aConversionThatFailsHalfWayLeavesTheStoreAsItWasAndTheNextStartFinishesIt() throws Exception {
            LegacyStores.downgrade(db, f.kek);
            List<Map<String, Object>> versions = db.rows("secret_versions", null);
            List<Map<String, Object>> keys = db.rows("crypto_keys", null);
            assertThatThrownBy(() -> Tresor.open(f.openStore(), f.kek, f.monitor, f.clock, done -> {
                if (done == 2) {
                    throw new IllegalStateException("the process dies here");
                }
            })).hasMessageContaining("dies here");
            assertThat(db.rows("keyring", null)).isEmpty();
            assertThat(db.rows("keyring_migrations", null)).isEmpty();
            assertThat(db.rows("secret_versions", null)).usingRecursiveComparison().isEqualTo(versions);
            assertThat(db.rows("crypto_keys", null)).usingRecursiveComparison().isEqualTo(keys);

            assertEverythingReads(f.reopen());
            assertThat(((Number) db.row("keyring_migrations", "1 = 1").get("rewrapped")).longValue()).isEqualTo(3);
        }

        @Test
        void aPreKeyringStoreOpenedWithAnotherKekRefusesAndStaysConvertible() throws Exception {
            LegacyStores.downgrade(db, f.kek);
            LocalKeyProvider other = LocalKeyProvider.create(f.dir.resolve("other-kek.json"));
            assertThatThrownBy(() -> openWith(other)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot unwrap this store's row MAC key")
                    .hasMessageContaining("another KEK");
            assertThat(db.rows("keyring", null)).isEmpty();
            assertEverythingReads(f.reopen());
        }
    }
}
