package dev.tresor.crypto.awskms;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The KMS encryption context for one wrap: what the caller binds as associated data, in a form
 * KMS checks on Decrypt and CloudTrail shows. {@code tresor:purpose} is the associated data's
 * domain label (e.g. {@code tresor/keyring/v1}, {@code tresor/audit-chain-key/v1}); for the
 * keyring, {@code tresor:store} is the store's random id; {@code tresor:aad} is the SHA-256 of the
 * whole associated data, so KMS refuses a data key asked for under any other binding (another
 * store, another keyring version, another purpose), not only under another label.
 *
 * <p>The associated data is Tresor's own {@code Canonical} encoding (tag 1, a 4-byte length, the
 * UTF-8 bytes of the domain, then further fields) or, for a few older callers, a plain label.
 */
final class KmsEncryptionContext {

    static final String PURPOSE = "tresor:purpose";
    static final String STORE = "tresor:store";
    static final String DIGEST = "tresor:aad";
    private static final String KEYRING_DOMAIN = "tresor/keyring/v1";
    private static final byte CANONICAL_STRING = 1;
    private static final int MAX_LABEL = 200;

    private KmsEncryptionContext() {}

    static Map<String, String> of(byte[] associatedData) {
        byte[] aad = associatedData == null ? new byte[0] : associatedData;
        Map<String, String> context = new LinkedHashMap<>();
        ByteBuffer in = ByteBuffer.wrap(aad);
        String domain = canonicalString(in);
        if (domain != null) {
            context.put(PURPOSE, domain);
            String store = KEYRING_DOMAIN.equals(domain) ? canonicalString(in) : null;
            if (store != null) {
                context.put(STORE, store);
            }
        } else {
            context.put(PURPOSE, printable(aad) ? new String(aad, StandardCharsets.US_ASCII) : "opaque");
        }
        context.put(DIGEST, Base64.getEncoder().withoutPadding().encodeToString(sha256(aad)));
        return Map.copyOf(context);
    }

    /** The next Canonical string field, or null if the bytes there are not one (short and printable). */
    private static String canonicalString(ByteBuffer in) {
        if (in.remaining() < 5 || in.get(in.position()) != CANONICAL_STRING) {
            return null;
        }
        int length = in.getInt(in.position() + 1);
        if (length < 1 || length > MAX_LABEL || length > in.remaining() - 5) {
            return null;
        }
        byte[] text = new byte[length];
        in.get(in.position() + 5, text);
        if (!printable(text)) {
            return null;
        }
        in.position(in.position() + 5 + length);
        return new String(text, StandardCharsets.US_ASCII);
    }

    private static boolean printable(byte[] bytes) {
        if (bytes.length == 0 || bytes.length > MAX_LABEL) {
            return false;
        }
        for (byte b : bytes) {
            if (b < 0x20 || b > 0x7e) {
                return false;
            }
        }
        return true;
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
