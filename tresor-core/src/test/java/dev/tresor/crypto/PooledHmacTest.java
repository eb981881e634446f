package dev.tresor.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.mac.HmacParameters;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The pooled HMAC must produce exactly Tink's tags and accept exactly what Tink's {@code verifyMac}
 * accepts: every changed byte, other data, another key's tag or a truncated tag fails.
 */
class PooledHmacTest {

    private final SecureRandom random = new SecureRandom();

    static List<HmacParameters> parameters() throws GeneralSecurityException {
        return List.of(PredefinedMacParameters.HMAC_SHA256_256BITTAG, PredefinedMacParameters.HMAC_SHA256_128BITTAG,
                hmac(32, 32, HmacParameters.Variant.NO_PREFIX), hmac(32, 20, HmacParameters.Variant.CRUNCHY),
                hmac(16, 16, HmacParameters.Variant.TINK));
    }

    private static HmacParameters hmac(int keyBytes, int tagBytes, HmacParameters.Variant variant) throws GeneralSecurityException {
        return HmacParameters.builder().setKeySizeBytes(keyBytes).setTagSizeBytes(tagBytes)
                .setHashType(HmacParameters.HashType.SHA256).setVariant(variant).build();
    }

    @Test
    void computesTinksTagsAndVerifiesExactlyWhatTinkVerifies() throws Exception {
        TinkRuntime.ensureRegistered();
        for (HmacParameters parameters : parameters()) {
            KeysetHandle handle = KeysetHandle.generateNew(parameters);
            Mac tink = handle.getPrimitive(TinkRuntime.configuration(), Mac.class);
            Mac pooled = PooledHmac.of(handle);
            assertThat(pooled).as("%s", parameters).isInstanceOf(PooledHmac.class);
            Mac other = PooledHmac.of(KeysetHandle.generateNew(parameters));
            for (int size : new int[] {0, 1, 63, 64, 65, 300, 10_000}) {
                byte[] data = bytes(size);
                byte[] tag = pooled.computeMac(data);
                assertThat(tag).as("%s, %d bytes", parameters, size).isEqualTo(tink.computeMac(data));
                tink.verifyMac(tag, data);
                pooled.verifyMac(tag, data);
                for (int i = 0; i < tag.length; i++) {
                    byte[] changed = tag.clone();
                    changed[i] ^= 0x01;
                    assertThatThrownBy(() -> pooled.verifyMac(changed, data)).isInstanceOf(GeneralSecurityException.class);
                }
                byte[] otherData = Arrays.copyOf(data, data.length + 1);
                assertThatThrownBy(() -> pooled.verifyMac(tag, otherData)).isInstanceOf(GeneralSecurityException.class);
                assertThatThrownBy(() -> pooled.verifyMac(Arrays.copyOf(tag, tag.length - 1), data))
                        .isInstanceOf(GeneralSecurityException.class);
                assertThatThrownBy(() -> pooled.verifyMac(other.computeMac(data), data)).isInstanceOf(GeneralSecurityException.class);
                Throwable tinks = org.assertj.core.api.Assertions.catchThrowable(() -> tink.verifyMac(null, data));
                assertThatThrownBy(() -> pooled.verifyMac(null, data)).isInstanceOf(tinks.getClass());
            }
        }
    }

    @Test
    void aTagOfAnOlderKeyInTheKeysetStillVerifies() throws Exception {
        TinkRuntime.ensureRegistered();
        KeysetHandle old = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG);
        byte[] data = bytes(100);
        byte[] oldTag = PooledHmac.of(old).computeMac(data);
        KeysetHandle rotated = KeysetHandle.newBuilder(old)
                .addEntry(KeysetHandle.generateEntryFromParameters(PredefinedMacParameters.HMAC_SHA256_256BITTAG).withRandomId().makePrimary())
                .build();
        Mac pooled = PooledHmac.of(rotated);
        pooled.verifyMac(oldTag, data);
        assertThat(pooled.computeMac(data)).isNotEqualTo(oldTag)
                .isEqualTo(rotated.getPrimitive(TinkRuntime.configuration(), Mac.class).computeMac(data));
    }

    @Test
    void legacyKeysKeepTinksPrimitive() throws Exception {
        TinkRuntime.ensureRegistered();
        KeysetHandle legacy = KeysetHandle.generateNew(hmac(32, 32, HmacParameters.Variant.LEGACY));
        assertThat(PooledHmac.of(legacy)).isNotInstanceOf(PooledHmac.class);
    }

    @Test
    void manyThreadsShareThePoolWithoutMixingKeys() throws Exception {
        TinkRuntime.ensureRegistered();
        KeysetHandle a = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG);
        KeysetHandle b = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG);
        Mac pooledA = PooledHmac.of(a);
        Mac pooledB = PooledHmac.of(b);
        Mac tinkA = a.getPrimitive(TinkRuntime.configuration(), Mac.class);
        Mac tinkB = b.getPrimitive(TinkRuntime.configuration(), Mac.class);
        ConcurrentLinkedQueue<Throwable> problems = new ConcurrentLinkedQueue<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 64; t++) {
                pool.execute(() -> {
                    try {
                        for (int i = 0; i < 200; i++) {
                            byte[] data = bytes(i);
                            if (!Arrays.equals(pooledA.computeMac(data), tinkA.computeMac(data))
                                    || !Arrays.equals(pooledB.computeMac(data), tinkB.computeMac(data))) {
                                throw new AssertionError("a pooled tag differs from Tink's");
                            }
                        }
                    } catch (Throwable e) {
                        problems.add(e);
                    }
                });
            }
        }
        assertThat(problems).isEmpty();
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
