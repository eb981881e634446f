package dev.tresor.crypto;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.mac.HmacKey;
import com.google.crypto.tink.mac.HmacParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Tink HMAC keyset's {@link Mac}, except that tags of the primary key are computed with pooled,
 * already keyed JDK {@link javax.crypto.Mac} objects. Tink keeps its {@code javax.crypto.Mac} in a
 * {@code ThreadLocal}, and the audit chain is MACed on whichever request thread writes the batch,
 * a new virtual thread per request: every record looked up a provider and keyed a fresh HMAC
 * (~4 % of a secret read's CPU).
 *
 * <p>Only what Tink defines is computed here: {@code outputPrefix || HMAC-SHA256(key, data)} cut
 * to the key's tag size (variants TINK, CRUNCHY and NO_PREFIX; LEGACY keys and other hashes keep
 * Tink's primitive). A verification compares with the primary key's tag in constant time, and
 * any tag that does not match is handed to Tink's own {@code verifyMac}, so what verifies (and
 * what fails) is exactly what Tink decides. Tests hold both to the same bytes.
 */
public final class PooledHmac implements Mac {

    private static final String ALGORITHM = "HmacSHA256";

    private final Mac tink;
    private final byte[] prefix;
    private final int tagBytes;
    private final SecretKeySpec key;
    private final IdlePool<javax.crypto.Mac> idle = new IdlePool<>();

    private PooledHmac(Mac tink, byte[] prefix, int tagBytes, SecretKeySpec key) {
        this.tink = tink;
        this.prefix = prefix;
        this.tagBytes = tagBytes;
        this.key = key;
    }

    /** The keyset's MAC: pooled when its primary key is an HMAC-SHA256 this class computes alike, else Tink's own. */
    public static Mac of(KeysetHandle handle) throws GeneralSecurityException {
        TinkRuntime.ensureRegistered();
        return of(handle, handle.getPrimitive(TinkRuntime.configuration(), Mac.class));
    }

    static Mac of(KeysetHandle handle, Mac tink) {
        if (handle.getPrimary().getKey() instanceof HmacKey primary
                && primary.getParameters().getHashType() == HmacParameters.HashType.SHA256
                && primary.getParameters().getVariant() != HmacParameters.Variant.LEGACY) {
            byte[] raw = primary.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
            try {
                return new PooledHmac(tink, primary.getOutputPrefix().toByteArray(),
                        primary.getParameters().getCryptographicTagSizeBytes(), new SecretKeySpec(raw, ALGORITHM));
            } finally {
                Arrays.fill(raw, (byte) 0);
            }
        }
        return tink;
    }

    @Override
    public byte[] computeMac(byte[] data) throws GeneralSecurityException {
        javax.crypto.Mac hmac = idle.take();
        if (hmac == null) {
            hmac = javax.crypto.Mac.getInstance(ALGORITHM);
            hmac.init(key);
        }
        byte[] full = hmac.doFinal(data); // doFinal also resets it for the next caller
        idle.give(hmac);
        byte[] tag = new byte[prefix.length + tagBytes];
        System.arraycopy(prefix, 0, tag, 0, prefix.length);
        System.arraycopy(full, 0, tag, prefix.length, tagBytes);
        return tag;
    }

    @Override
    public void verifyMac(byte[] mac, byte[] data) throws GeneralSecurityException {
        if (mac != null && MessageDigest.isEqual(mac, computeMac(data))) {
            return;
        }
        // Another key of the keyset, or no valid tag at all: Tink decides.
        tink.verifyMac(mac, data);
    }
}
