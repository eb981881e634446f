package dev.tresor.ca;

import static dev.tresor.ca.TestCertificates.FIXED_CLOCK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, finding 11: the CA key was stored in clear beside the store. It is now sealed by the
 * key provider; these tests try to read it, swap it, edit it and open it with the wrong KEK.
 */
class SealedCaKeyTest {

    @TempDir
    Path dir;

    private LocalKeyProvider kek;
    private CertificateAuthority ca;
    private Path cert;
    private Path key;

    @BeforeEach
    void saveACa() {
        kek = LocalKeyProvider.create(dir.resolve("kek.json"));
        ca = CertificateAuthority.create("tresor.local", Duration.ofDays(30), FIXED_CLOCK);
        cert = dir.resolve("ca.crt");
        key = dir.resolve("ca.key");
        ca.save(cert, key, kek);
    }

    @Test
    void theFileHoldsNoPartOfTheKeyInClear() throws Exception {
        ECPrivateKey clear = (ECPrivateKey) SealedCaKey.open(key, ca.certificate(), kek);
        byte[] pkcs8 = clear.getEncoded();
        byte[] scalar = clear.getS().toByteArray();
        byte[] stored = decodedBlock(Files.readString(key));
        String text = Files.readString(key);

        assertThat(text).startsWith("-----BEGIN TRESOR SEALED CA KEY-----").doesNotContain("PRIVATE KEY");
        assertThat(indexOf(stored, pkcs8)).isNegative();
        assertThat(indexOf(stored, java.util.Arrays.copyOfRange(scalar, scalar.length - 16, scalar.length))).isNegative();
        assertThat(text).doesNotContain(Base64.getEncoder().encodeToString(pkcs8).substring(0, 40));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(SealedCaKey.isSealed(key)).isTrue();
    }

    @Test
    void anotherKekDoesNotOpenItAndTheErrorNamesBothKeks() {
        LocalKeyProvider other = LocalKeyProvider.create(dir.resolve("other-kek.json"));
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, other, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not open")
                .hasMessageContaining(kek.keyId())
                .hasMessageContaining(other.keyId());
    }

    @Test
    void anotherCasSealedKeySwappedInUnderTheSameKekIsRefused() throws Exception {
        CertificateAuthority other = CertificateAuthority.create("tresor.local", Duration.ofDays(30), FIXED_CLOCK);
        other.save(dir.resolve("other.crt"), dir.resolve("other.key"), kek);
        Files.copy(dir.resolve("other.key"), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("another CA certificate");
    }

    @Test
    void everyEditedByteIsRefused() throws Exception {
        String original = Files.readString(key);
        byte[] block = decodedBlock(original);
        // The format byte, the KEK id and the ciphertext (nonce, body, tag): each flip must fail.
        for (int i : List.of(0, 1, 3, 8, block.length / 2, block.length - 1)) {
            byte[] edited = block.clone();
            edited[i] ^= 0x01;
            Files.writeString(key, pem(edited));
            assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                    .as("byte %d flipped", i)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        Files.writeString(key, original);
        assertThat(CertificateAuthority.load(cert, key, kek, FIXED_CLOCK).certificate()).isEqualTo(ca.certificate());
    }

    @Test
    void aTruncatedOrExtendedFileIsRefused() throws Exception {
        byte[] block = decodedBlock(Files.readString(key));
        Files.writeString(key, pem(java.util.Arrays.copyOf(block, block.length - 1)));
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK)).isInstanceOf(IllegalArgumentException.class);
        Files.writeString(key, pem(java.util.Arrays.copyOf(block, 2)));
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sealed CA key");
        Files.writeString(key, pem(block) + Pem.encodePrivateKey(KeyPairs.generateP256().getPrivate()));
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one");
    }

    @Test
    void aKeyFoundInClearIsSealedInPlaceOnceAndStillSigns() throws Exception {
        Path clearKey = dir.resolve("legacy.key");
        Pem.writePrivateKey(clearKey, SealedCaKey.open(key, ca.certificate(), kek));
        assertThat(SealedCaKey.isSealed(clearKey)).isFalse();

        CertificateAuthority.Opened first = CertificateAuthority.open(cert, clearKey, kek, FIXED_CLOCK);
        assertThat(first.sealedNow()).isTrue();
        assertThat(SealedCaKey.isSealed(clearKey)).isTrue();
        assertThat(Files.readString(clearKey)).doesNotContain("PRIVATE KEY");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(clearKey))).isEqualTo("rw-------");

        CertificateAuthority.Opened second = CertificateAuthority.open(cert, clearKey, kek, FIXED_CLOCK);
        assertThat(second.sealedNow()).isFalse();
        var leaf = second.ca().issueClient(KeyPairs.generateP256().getPublic(), "spiffe://tresor.local/client/a",
                Duration.ofHours(1)).certificate();
        leaf.verify(ca.certificate().getPublicKey());
    }

    @Test
    void aClearKeyOfAnotherCaIsRefusedAndLeftUntouched() throws Exception {
        Path clearKey = dir.resolve("wrong.key");
        Pem.writePrivateKey(clearKey, KeyPairs.generateP256().getPrivate());
        String before = Files.readString(clearKey);

        assertThatThrownBy(() -> CertificateAuthority.open(cert, clearKey, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong");
        assertThat(Files.readString(clearKey)).isEqualTo(before);
    }

    @Test
    void aClearKeyReadableByOthersIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path clearKey = dir.resolve("loose.key");
        Pem.writePrivateKey(clearKey, SealedCaKey.open(key, ca.certificate(), kek));
        Files.setPosixFilePermissions(clearKey, PosixFilePermissions.fromString("rw-r--r--"));
        String before = Files.readString(clearKey);

        assertThatThrownBy(() -> CertificateAuthority.open(cert, clearKey, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chmod 600");
        assertThat(Files.readString(clearKey)).isEqualTo(before);
    }

    @Test
    void rewrapMovesTheKeyToANewKekAndTheOldOneNoLongerOpensIt() {
        LocalKeyProvider next = LocalKeyProvider.create(dir.resolve("next-kek.json"));
        SealedCaKey.rewrap(key, ca.certificate(), kek, next);

        assertThat(CertificateAuthority.load(cert, key, next, FIXED_CLOCK).certificate()).isEqualTo(ca.certificate());
        assertThatThrownBy(() -> CertificateAuthority.load(cert, key, kek, FIXED_CLOCK))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(next.keyId());
    }

    private static byte[] decodedBlock(String pem) {
        String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }

    private static String pem(byte[] der) {
        return Pem.encode(SealedCaKey.LABEL, der);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        String h = HexFormat.of().formatHex(haystack);
        String n = HexFormat.of().formatHex(needle);
        for (int i = h.indexOf(n); i >= 0; i = h.indexOf(n, i + 1)) {
            if (i % 2 == 0) {
                return i / 2;
            }
        }
        return -1;
    }
}
