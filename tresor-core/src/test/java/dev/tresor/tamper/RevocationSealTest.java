package dev.tresor.tamper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.access.TresorFixture;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.ca.KeyPairs;
import dev.tresor.identity.WorkloadIdentity;
import dev.tresor.model.IntegrityViolation;
import dev.tresor.model.Role;
import dev.tresor.store.Rows.IssuedCertRow;
import dev.tresor.store.TestDatabase;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Certificate revocation is sealed in the ACL head (schema 8): an attacker who can write the
 * database but holds no KEK cannot revoke a certificate back by editing {@code issued_certs}, nor
 * drop a revocation from the sealed list, on either database.
 */
class RevocationSealTest {

    @Nested
    class SQLite extends Attacks {
        SQLite() {
            super(TestDatabase.Kind.SQLITE);
        }
    }

    @Nested
    class PostgreSQL extends Attacks {
        PostgreSQL() {
            super(TestDatabase.Kind.POSTGRESQL);
        }
    }

    abstract static class Attacks {

        private final TestDatabase.Kind kind;
        TresorFixture f;
        CertificateAuthority ca;

        Attacks(TestDatabase.Kind kind) {
            this.kind = kind;
        }

        @BeforeEach
        void world() {
            f = TresorFixture.create(kind);
            ca = CertificateAuthority.create("tresor.local", Duration.ofDays(800), f.clock);
            f.group("g1");
            f.client("alice", false, Role.READ, "g1");
            f.client("bob", false, Role.READ, "g1");
            f.monitor.clear();
        }

        @AfterEach
        void close() {
            if (f != null) {
                f.close();
            }
        }

        /** A certificate for {@code client} issued by an admin and recorded, as {@code POST /v1/ca/sign} does. */
        BigInteger issue(String client) {
            IssuedCertificate issued = f.tresor.issueCertificate(f.root(), client, true,
                    request -> ca.issueClient(KeyPairs.generateP256().getPublic(), request.identity(), Duration.ofHours(24)))
                    .certificate();
            return issued.certificate().getSerialNumber();
        }

        boolean revokedNow(Tresor tresor, BigInteger serial) {
            return tresor.identity().isRevoked(tresor.view(), serial);
        }

        IssuedCertRow listed(Tresor tresor, BigInteger serial) {
            return tresor.identity().issued(f.root(), null, true, 100).stream()
                    .filter(r -> r.serial().equals(serial.toString(16))).findFirst().orElseThrow();
        }

        @Test
        void clearingTheRevocationColumnsInTheDatabaseRevokesNothingBack() {
            BigInteger serial = issue("alice");
            BigInteger kept = issue("bob");
            f.tresor.identity().revokeSerial(f.root(), serial.toString(16));
            assertThat(revokedNow(f.tresor, serial)).isTrue();

            int changed = f.db.sql("UPDATE issued_certs SET revoked_at = NULL, revoked_by = NULL WHERE serial = ?",
                    serial.toString(16));
            assertThat(changed).isEqualTo(1);

            for (Tresor node : List.of(f.tresor, f.reopen())) {
                assertThat(revokedNow(node, serial)).as("the API still refuses it").isTrue();
                assertThat(revokedNow(node, kept)).isFalse();
                assertThat(node.identity().revoked()).extracting(WorkloadIdentity.Revoked::serial)
                        .as("the CRL still lists it").containsExactly(serial);
                IssuedCertRow row = listed(node, serial);
                assertThat(row.revokedAt()).as("the listing shows the sealed revocation").isNotNull();
                assertThat(row.revokedBy()).isEqualTo("(not recorded)");
                assertThat(listed(node, kept).revokedAt()).isNull();
            }
        }

        @Test
        void aRevocationForgedInTheRowsIsNotTakenForARealOne() {
            BigInteger serial = issue("alice");
            f.db.sql("UPDATE issued_certs SET revoked_at = ?, revoked_by = 'mallory' WHERE serial = ?",
                    f.clock.millis(), serial.toString(16));
            Tresor node = f.reopen();
            assertThat(revokedNow(node, serial)).isFalse();
            assertThat(node.identity().revoked()).isEmpty();
            assertThat(listed(node, serial).revokedAt()).isNull();
        }

        @Test
        void droppingTheRevocationFromTheSealedListBreaksTheAclHead() {
            BigInteger serial = issue("alice");
            f.tresor.identity().revokeSerial(f.root(), serial.toString(16));
            String registry = (String) f.db.row("acl_head", "id = 1").get("registry");
            String entry = "#" + serial.toString(16) + ":";
            assertThat(registry).contains(entry);
            String without = registry.replaceAll(",?#" + serial.toString(16) + ":\\d+", "");
            assertThat(without).doesNotContain(entry);
            f.db.sql("UPDATE acl_head SET registry = ? WHERE id = 1", without);
            f.monitor.clear();

            // The running node: its next look at the ACL head fails the MAC (a cached head is reused only for the same text).
            assertThatThrownBy(() -> revokedNow(f.tresor, serial)).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("ACL head");
            assertThatThrownBy(() -> f.tresor.identity().revoked()).isInstanceOf(IntegrityViolation.class);
            assertThat(f.monitor.subjects()).contains("ACL head");
            // A restart refuses to open the store at all.
            assertThatThrownBy(f::reopen).isInstanceOf(IntegrityViolation.class)
                    .hasMessageContaining("ACL head's MAC does not verify");
        }

        @Test
        void revokingAnIdentitySealsEachOfItsCertificates() {
            BigInteger first = issue("alice");
            BigInteger second = issue("alice");
            BigInteger other = issue("bob");
            List<String> serials = f.tresor.identity().revokeIdentity(f.root(), TresorFixture.id("alice"));
            assertThat(serials).containsExactlyInAnyOrder(first.toString(16), second.toString(16));
            f.db.sql("UPDATE issued_certs SET revoked_at = NULL, revoked_by = NULL");
            Tresor node = f.reopen();
            assertThat(node.identity().revoked()).extracting(WorkloadIdentity.Revoked::serial)
                    .containsExactlyInAnyOrder(first, second);
            assertThat(revokedNow(node, other)).isFalse();
        }

        @Test
        void revokingTwiceKeepsTheFirstTimeAndWritesNothing() {
            BigInteger serial = issue("alice");
            IssuedCertRow once = f.tresor.identity().revokeSerial(f.root(), serial.toString(16));
            Object epoch = f.db.row("acl_head", "id = 1").get("epoch");
            f.clock.advance(Duration.ofMinutes(5));
            IssuedCertRow twice = f.tresor.identity().revokeSerial(f.root(), serial.toString(16));
            assertThat(twice.revokedAt()).isEqualTo(once.revokedAt());
            assertThat(f.db.row("acl_head", "id = 1").get("epoch")).isEqualTo(epoch);
        }

        @Test
        void aSealedRevocationIsForgottenOnlyAfterTheLongestCertificateLifetime() {
            BigInteger old = issue("alice");
            f.tresor.identity().revokeSerial(f.root(), old.toString(16));
            f.clock.advance(CertificateAuthority.MAX_LEAF_TTL);
            BigInteger later = issue("bob");
            f.tresor.identity().revokeSerial(f.root(), later.toString(16));
            assertThat(f.tresor.identity().revoked()).extracting(WorkloadIdentity.Revoked::serial)
                    .as("within the longest lifetime plus the clock-skew allowance").contains(old, later);
            f.clock.advance(CertificateAuthority.CLOCK_SKEW_ALLOWANCE.plusMinutes(1));
            BigInteger last = issue("bob");
            f.tresor.identity().revokeSerial(f.root(), last.toString(16));
            assertThat(f.tresor.identity().revoked()).extracting(WorkloadIdentity.Revoked::serial)
                    .containsExactlyInAnyOrder(later, last);
        }

        @Test
        void theUpgradeToSchema8SealsTheRevocationsRecordedBefore() {
            BigInteger before = issue("alice");
            BigInteger notRevoked = issue("bob");
            // The shape of a store before schema 8: the revocation only in the row, the migration not yet run.
            f.db.sql("UPDATE issued_certs SET revoked_at = ?, revoked_by = 'root' WHERE serial = ?", f.clock.millis(),
                    before.toString(16));
            // Every migration from 8 on is undone, so that Flyway runs them again in order; this
            // database is not reused by the next test, whatever this one leaves behind.
            f.db.discardAfterUse();
            f.db.sql("DROP INDEX issued_certs_revoked");
            f.db.sql("DROP TABLE idempotency_keys");
            f.db.sql("DROP TABLE audit_records");
            f.db.sql("DROP TABLE secret_journal");
            f.db.sql("DROP TABLE audit_copy_marks");
            assertThat(f.db.sql("DELETE FROM flyway_schema_history WHERE version IN ('8', '9', '10', '11', '12', '13')"))
                    .isEqualTo(6);

            Tresor upgraded = f.reopen();
            assertThat(revokedNow(upgraded, before)).isTrue();
            assertThat(revokedNow(upgraded, notRevoked)).isFalse();
            assertThat(listed(upgraded, before).revokedBy()).isEqualTo("root");
            // Sealed now: clearing the row afterwards changes nothing, and a later start does not re-read the rows.
            f.db.sql("UPDATE issued_certs SET revoked_at = NULL, revoked_by = NULL");
            f.db.sql("UPDATE issued_certs SET revoked_at = ?, revoked_by = 'mallory' WHERE serial = ?", f.clock.millis(),
                    notRevoked.toString(16));
            Tresor restarted = f.reopen();
            assertThat(revokedNow(restarted, before)).isTrue();
            assertThat(revokedNow(restarted, notRevoked)).isFalse();
        }
    }
}
