package dev.tresor.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * A local KEK keyset sealed by a passphrase: Argon2id (BouncyCastle) derives a 256-bit key from
 * the passphrase and a random salt; that key wraps the Tink keyset with AES-256-GCM. The Argon2
 * parameters and the salt are stored beside the sealed keyset, and bound into the wrapping as
 * associated data. Editing them only makes the passphrase fail; absurd values (a denial of
 * service by memory) are refused before deriving.
 */
final class SealedKeyFile {

    static final String FORMAT = "tresor-sealed-kek/v1";
    private static final int SALT_BYTES = 16;
    private static final int KEY_BYTES = 32;
    private static final int MAX_MEMORY_KIB = 4 << 20; // 4 GiB
    private static final int MAX_ITERATIONS = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Argon2id cost: memory in KiB, passes, lanes. */
    record Argon2id(int memoryKiB, int iterations, int parallelism) {
        /** RFC 9106 §4, first recommended option: 2 GiB, 1 pass, 4 lanes. */
        static final Argon2id RFC9106_FIRST = new Argon2id(2 << 20, 1, 4);
        /** RFC 9106 §4, second recommended option (memory-constrained): 64 MiB, 3 passes, 4 lanes. */
        static final Argon2id RFC9106_SECOND = new Argon2id(64 << 10, 3, 4);

        Argon2id {
            if (memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB || iterations < 1 || iterations > MAX_ITERATIONS
                    || parallelism < 1 || parallelism > 64) {
                throw new IllegalArgumentException("Argon2id parameters out of range (memory " + memoryKiB + " KiB, "
                        + iterations + " passes, " + parallelism + " lanes)");
            }
        }
    }

    private SealedKeyFile() {}

    static boolean isSealed(String content) {
        return content.contains("\"" + FORMAT + "\"");
    }

    static String seal(KeysetHandle keyset, char[] passphrase, Argon2id cost) throws GeneralSecurityException {
        requirePassphrase(passphrase);
        byte[] salt = new byte[SALT_BYTES];
        new SecureRandom().nextBytes(salt);
        byte[] key = derive(passphrase, salt, cost);
        try {
            byte[] sealed = TinkProtoKeysetFormat.serializeEncryptedKeyset(keyset, new AesGcmJce(key),
                    associatedData(salt, cost));
            ObjectNode out = JSON.createObjectNode();
            out.put("format", FORMAT);
            out.put("kdf", "argon2id");
            out.put("argon2Version", 19);
            out.put("memoryKiB", cost.memoryKiB());
            out.put("iterations", cost.iterations());
            out.put("parallelism", cost.parallelism());
            out.put("salt", Base64.getEncoder().encodeToString(salt));
            out.put("keyset", Base64.getEncoder().encodeToString(sealed));
            return out.toPrettyString() + "\n";
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Opens a sealed file's keyset; {@link GeneralSecurityException} for a wrong passphrase or an altered file. */
    static KeysetHandle open(String content, char[] passphrase) throws GeneralSecurityException {
        requirePassphrase(passphrase);
        JsonNode in;
        try {
            in = JSON.readTree(content);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("the sealed key file is not JSON");
        }
        if (!FORMAT.equals(in.path("format").asText()) || !"argon2id".equals(in.path("kdf").asText())
                || in.path("argon2Version").asInt() != 19) {
            throw new GeneralSecurityException("not a " + FORMAT + " file with Argon2id version 19");
        }
        Argon2id cost;
        try {
            cost = new Argon2id(in.path("memoryKiB").asInt(), in.path("iterations").asInt(), in.path("parallelism").asInt());
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException(e.getMessage());
        }
        byte[] salt = Base64.getDecoder().decode(in.path("salt").asText());
        byte[] sealed = Base64.getDecoder().decode(in.path("keyset").asText());
        byte[] key = derive(passphrase, salt, cost);
        try {
            return TinkProtoKeysetFormat.parseEncryptedKeyset(sealed, new AesGcmJce(key), associatedData(salt, cost));
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static byte[] derive(char[] passphrase, byte[] salt, Argon2id cost) {
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(cost.memoryKiB())
                .withIterations(cost.iterations())
                .withParallelism(cost.parallelism())
                .withSalt(salt)
                .build());
        byte[] key = new byte[KEY_BYTES];
        generator.generateBytes(passphrase, key);
        return key;
    }

    private static byte[] associatedData(byte[] salt, Argon2id cost) {
        return Canonical.of(FORMAT).string("argon2id").number(19).number(cost.memoryKiB()).number(cost.iterations())
                .number(cost.parallelism()).bytes(salt).toBytes();
    }

    private static void requirePassphrase(char[] passphrase) {
        if (passphrase == null || passphrase.length == 0) {
            throw new IllegalArgumentException("the passphrase is empty");
        }
    }
}
