package dev.tresor.testkit.kms;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The local KMS's symmetric keys: each an AES-256 key (the JDK's AES/GCM, never leaves this
 * object) with a key id, an ARN and any number of aliases. A ciphertext blob names its key (as
 * AWS's do) and binds the encryption context as GCM associated data, so Decrypt under another
 * context, or of a changed blob, fails.
 */
final class KmsKeys {

    private static final byte FORMAT = 0x01;
    private static final int ID_BYTES = 16;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    /** One key: its public names and its material. */
    record Key(String id, String arn, SecretKey material) {}

    private final String region;
    private final String account;
    private final Map<String, Key> byId = new ConcurrentHashMap<>();
    private final Map<String, String> aliases = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    KmsKeys(String region, String account) {
        this.region = region;
        this.account = account;
    }

    /** A new key; returns its ARN. */
    String create() {
        try {
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(256);
            String id = UUID.randomUUID().toString();
            String arn = "arn:aws:kms:" + region + ":" + account + ":key/" + id;
            byId.put(id, new Key(id, arn, generator.generateKey()));
            return arn;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Names the key with ARN {@code arn} also {@code alias/NAME} ({@code alias} given with its "alias/" prefix). */
    void alias(String alias, String arn) {
        if (!alias.startsWith("alias/")) {
            throw new IllegalArgumentException("an alias starts with alias/");
        }
        aliases.put(alias, find(arn).orElseThrow().id());
    }

    /** The key that a KeyId of a request names: a key id, a key ARN, an alias name or an alias ARN. */
    Optional<Key> find(String keyId) {
        if (keyId == null) {
            return Optional.empty();
        }
        String prefix = "arn:aws:kms:" + region + ":" + account + ":";
        String name = keyId.startsWith(prefix) ? keyId.substring(prefix.length()) : keyId;
        if (name.startsWith("key/")) {
            name = name.substring(4);
        }
        if (name.startsWith("alias/")) {
            String id = aliases.get(name);
            return id == null ? Optional.empty() : Optional.ofNullable(byId.get(id));
        }
        return Optional.ofNullable(byId.get(name));
    }

    /** How AWS words a missing key: aliases by their ARN, keys by their ARN. */
    String describeMissing(String keyId) {
        String prefix = "arn:aws:kms:" + region + ":" + account + ":";
        if (keyId.startsWith("alias/")) {
            return "Alias " + prefix + keyId;
        }
        return "Key '" + (keyId.startsWith("arn:") ? keyId : prefix + "key/" + keyId) + "'";
    }

    byte[] encrypt(Key key, byte[] plaintext, Map<String, String> context) throws GeneralSecurityException {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, key.material(), new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(associatedData(context));
        byte[] sealed = cipher.doFinal(plaintext);
        UUID id = UUID.fromString(key.id());
        return ByteBuffer.allocate(1 + ID_BYTES + NONCE_BYTES + sealed.length).put(FORMAT)
                .putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).put(nonce).put(sealed).array();
    }

    /** The key a ciphertext blob names, if it is one of this KMS's blobs. */
    Optional<Key> keyOf(byte[] blob) {
        if (blob == null || blob.length < 1 + ID_BYTES + NONCE_BYTES + TAG_BITS / 8 || blob[0] != FORMAT) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(blob, 1, ID_BYTES);
        return Optional.ofNullable(byId.get(new UUID(b.getLong(), b.getLong()).toString()));
    }

    byte[] decrypt(Key key, byte[] blob, Map<String, String> context) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.DECRYPT_MODE, key.material(), new GCMParameterSpec(TAG_BITS, blob, 1 + ID_BYTES, NONCE_BYTES));
        cipher.updateAAD(associatedData(context));
        int start = 1 + ID_BYTES + NONCE_BYTES;
        return cipher.doFinal(blob, start, blob.length - start);
    }

    /** The encryption context, sorted by key, each pair length-prefixed: no two contexts encode alike. */
    private static byte[] associatedData(Map<String, String> context) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, String> e : new TreeMap<>(context == null ? Map.of() : context).entrySet()) {
            for (String s : new String[] {e.getKey(), e.getValue()}) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                out.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }
}
