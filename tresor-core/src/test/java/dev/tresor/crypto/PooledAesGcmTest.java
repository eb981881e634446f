package dev.tresor.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The pooled JDK decryption must accept exactly what Tink's AES-GCM accepts: everything Tink
 * encrypts opens, and every changed byte, other associated data, other key or truncation fails.
 */
class PooledAesGcmTest {

    private final SecureRandom random = new SecureRandom();

    @Test
    void opensWhatTinksAesGcmJceSealsAndNothingChanged() throws Exception {
        AesGcmDecryption pooled = new AesGcmDecryption();
        for (int size : new int[] {0, 1, 15, 16, 64, 1000, 70_000}) {
            byte[] key = bytes(32);
            byte[] plaintext = bytes(size);
            byte[] aad = bytes(size % 50);
            byte[] ciphertext = new AesGcmJce(key).encrypt(plaintext, aad);
            SecretKeySpec spec = new SecretKeySpec(key, "AES");
            assertThat(pooled.decrypt(spec, ciphertext, 0, aad)).isEqualTo(plaintext);
            for (int i = 0; i < ciphertext.length; i += Math.max(1, ciphertext.length / 40)) {
                byte[] changed = ciphertext.clone();
                changed[i] ^= 0x01;
                assertThatThrownBy(() -> pooled.decrypt(spec, changed, 0, aad)).isInstanceOf(GeneralSecurityException.class);
            }
            byte[] otherAad = Arrays.copyOf(aad, aad.length + 1);
            assertThatThrownBy(() -> pooled.decrypt(spec, ciphertext, 0, otherAad)).isInstanceOf(GeneralSecurityException.class);
            assertThatThrownBy(() -> pooled.decrypt(new SecretKeySpec(bytes(32), "AES"), ciphertext, 0, aad))
                    .isInstanceOf(GeneralSecurityException.class);
            assertThatThrownBy(() -> pooled.decrypt(spec, Arrays.copyOf(ciphertext, ciphertext.length - 1), 0, aad))
                    .isInstanceOf(GeneralSecurityException.class);
            assertThatThrownBy(() -> pooled.decrypt(spec, Arrays.copyOf(ciphertext, 27), 0, aad))
                    .isInstanceOf(GeneralSecurityException.class);
            // the pool still serves correctly after failures
            assertThat(pooled.decrypt(spec, ciphertext, 0, aad)).isEqualTo(plaintext);
        }
    }

    @Test
    void manyThreadsShareThePoolWithoutMixingKeys() throws Exception {
        AesGcmDecryption pooled = new AesGcmDecryption();
        ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 64; t++) {
                pool.submit(() -> {
                    try {
                        for (int i = 0; i < 200; i++) {
                            byte[] key = bytes(32);
                            byte[] plaintext = bytes(64);
                            byte[] ciphertext = new AesGcmJce(key).encrypt(plaintext, null);
                            if (!Arrays.equals(pooled.decrypt(new SecretKeySpec(key, "AES"), ciphertext, 0, null), plaintext)) {
                                problems.add(new AssertionError("wrong plaintext"));
                            }
                        }
                    } catch (Throwable e) {
                        problems.add(e);
                    }
                });
            }
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void theKekDecryptsExactlyWhatTinksKeysetPrimitiveDecrypts() throws Exception {
        TinkRuntime.ensureRegistered();
        KeysetHandle old = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
        byte[] oldPlaintext = bytes(32);
        byte[] oldAad = bytes(10);
        byte[] fromOldKey = old.getPrimitive(TinkRuntime.configuration(), Aead.class).encrypt(oldPlaintext, oldAad);
        // A keyset whose primary is a new key but that still holds the old one (a rotated KEK).
        KeysetHandle rotated = KeysetHandle.newBuilder(old)
                .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedAeadParameters.AES256_GCM).withRandomId().makePrimary())
                .build();
        Aead tink = rotated.getPrimitive(TinkRuntime.configuration(), Aead.class);
        Aead pooled = PooledKekAead.of(rotated, tink);
        assertThat(pooled).isInstanceOf(PooledKekAead.class);

        byte[] plaintext = bytes(32);
        byte[] aad = bytes(20);
        byte[] byTink = tink.encrypt(plaintext, aad);
        assertThat(pooled.decrypt(byTink, aad)).isEqualTo(plaintext);
        assertThat(tink.decrypt(pooled.encrypt(plaintext, aad), aad)).isEqualTo(plaintext);
        assertThat(pooled.decrypt(fromOldKey, oldAad)).as("a non-primary key is left to Tink").isEqualTo(oldPlaintext);
        for (int i = 0; i < byTink.length; i++) {
            byte[] changed = byTink.clone();
            changed[i] ^= (byte) 0x80;
            assertThatThrownBy(() -> pooled.decrypt(changed, aad)).isInstanceOf(GeneralSecurityException.class);
        }
        assertThatThrownBy(() -> pooled.decrypt(byTink, bytes(20))).isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> pooled.decrypt(new byte[3], aad)).isInstanceOf(GeneralSecurityException.class);
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
