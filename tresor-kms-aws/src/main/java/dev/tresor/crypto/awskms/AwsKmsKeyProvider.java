package dev.tresor.crypto.awskms;

import com.google.crypto.tink.Aead;
import dev.tresor.crypto.KekUnavailableException;
import dev.tresor.crypto.KeyProvider;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;
import software.amazon.awssdk.services.kms.model.KeyMetadata;

/**
 * The KEK is a symmetric AWS KMS key (AWS SDK v2, HTTP through the JDK's HttpURLConnection). Each
 * wrap asks KMS for a fresh AES-256 data key ({@code GenerateDataKey}) and seals the plaintext
 * with it locally (the JDK's AES-GCM, the caller's associated data bound); unwrapping asks KMS to
 * {@code Decrypt} that data key. KMS sees an encryption context derived from the associated data
 * ({@link KmsEncryptionContext}: the purpose, the store id for the keyring, a digest of the rest),
 * so a data key released for one binding is refused for any other. Format: {@code 0x01 | length of
 * the KMS blob (2) | KMS blob | nonce (12) | ciphertext | tag (16)}.
 *
 * <p>Only start-up, a keyring change and a rotation call KMS (the KEK wraps the keyring, the audit
 * chain keys and the CA key); a read uses the keyring in memory and never waits on KMS. A failed
 * call during operation is a {@link KekUnavailableException} (the operation fails, nothing
 * changes); at {@link #open} it is a refusal naming the fix.
 */
public final class AwsKmsKeyProvider implements KeyProvider {

    private static final byte FORMAT = 0x01;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final byte[] CHECK_CONTEXT = "tresor/awskms-check/v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Which KMS key: {@code keyId} a key ARN, a key id or {@code alias/NAME}; {@code region} (null:
     * the region in a key ARN, else AWS_REGION / AWS_DEFAULT_REGION); {@code endpoint} (null: the
     * region's public KMS endpoint; set for a VPC endpoint, FIPS, or a test server).
     */
    public record Settings(String keyId, String region, URI endpoint) {
        public Settings {
            Objects.requireNonNull(keyId, "keyId");
            if (keyId.isBlank()) {
                throw new IllegalArgumentException("keyId is empty");
            }
        }

        /** This key's region: the configured one, the one in its ARN, or the environment's. */
        String region(Map<String, String> environment) {
            if (region != null && !region.isBlank()) {
                return region;
            }
            String[] arn = keyId.split(":");
            if (arn.length >= 6 && "arn".equals(arn[0]) && "kms".equals(arn[2]) && !arn[3].isEmpty()) {
                return arn[3];
            }
            for (String variable : new String[] {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
                String value = environment.get(variable);
                if (value != null && !value.isBlank()) {
                    return value;
                }
            }
            throw new IllegalStateException("no AWS region for the KMS key " + keyId + ": set keyProvider.region, give "
                    + "keyProvider.keyId as a key ARN, or set AWS_REGION in the server's environment");
        }

        String where() {
            return endpoint != null ? endpoint.toString() : region != null ? "region " + region : "key " + keyId;
        }
    }

    private final KmsClient kms;
    private final String arn;
    private final Aead aead = new KmsAead();
    private final SecureRandom random = new SecureRandom();

    private AwsKmsKeyProvider(KmsClient kms, String arn) {
        this.kms = kms;
        this.arn = arn;
    }

    /**
     * Finds the key ({@code DescribeKey}) and proves the server may use it (one {@code
     * GenerateDataKey} and one {@code Decrypt}), so wrong credentials, a missing permission,
     * throttling, an unreachable KMS or an unusable key refuse the start, with the fix named,
     * before anything is read or written. {@code environment} is where the credentials are read
     * from ({@link AwsCredentials}).
     */
    public static AwsKmsKeyProvider open(Settings settings, Map<String, String> environment) {
        String region = settings.region(environment);
        AwsCredentialsProvider credentials = AwsCredentials.from(environment);
        var builder = KmsClient.builder()
                .region(Region.of(region))
                .credentialsProvider(credentials)
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(15)))
                // The SDK's standard retries (3 attempts, backoff on throttling) bound the wait; a
                // rotation or a start that still fails says so rather than hanging.
                .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD).apiCallTimeout(Duration.ofSeconds(60)));
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        }
        KmsClient kms = builder.build();
        try {
            KeyMetadata key = kms.describeKey(r -> r.keyId(settings.keyId())).keyMetadata();
            if (!"SYMMETRIC_DEFAULT".equals(key.keySpecAsString()) || !"ENCRYPT_DECRYPT".equals(key.keyUsageAsString())) {
                throw new IllegalStateException("the KMS key " + settings.keyId() + " (" + key.arn() + ") is a "
                        + key.keySpecAsString() + " key for " + key.keyUsageAsString() + "; the KEK must be a symmetric "
                        + "(SYMMETRIC_DEFAULT) ENCRYPT_DECRYPT key: fix keyProvider.keyId");
            }
            if (Boolean.FALSE.equals(key.enabled())) {
                throw new IllegalStateException("the KMS key " + settings.keyId() + " (" + key.arn() + ") is disabled ("
                        + key.keyStateAsString() + "): enable it, or fix keyProvider.keyId");
            }
            AwsKmsKeyProvider provider = new AwsKmsKeyProvider(kms, key.arn());
            provider.check();
            return provider;
        } catch (SdkException e) {
            kms.close();
            throw new IllegalStateException(KmsFailure.explain(e, settings, AwsCredentials.source(environment)), e);
        } catch (GeneralSecurityException e) {
            kms.close();
            throw new IllegalStateException("AWS KMS (" + settings.where() + ") could not wrap and unwrap under the key "
                    + settings.keyId() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            kms.close();
            throw e;
        }
    }

    /** A wrap and an unwrap, so a missing kms:GenerateDataKey or kms:Decrypt shows at start, not at the first rotation. */
    private void check() throws GeneralSecurityException {
        byte[] probe = new byte[16];
        random.nextBytes(probe);
        byte[] opened;
        try {
            opened = unseal(seal(probe, CHECK_CONTEXT), CHECK_CONTEXT);
        } catch (KmsCallFailed e) {
            throw e.cause;
        }
        if (!Arrays.equals(probe, opened)) {
            throw new GeneralSecurityException("the round trip through KMS returned other bytes");
        }
    }

    /** {@code awskms:} and the key's ARN (an alias is resolved at open: the ARN is what the keyring is wrapped under). */
    @Override
    public String keyId() {
        return "awskms:" + arn;
    }

    @Override
    public Aead kek() {
        return aead;
    }

    /** An SDK failure carried out of seal/unseal, so open() can explain it and the Aead can classify it. */
    private static final class KmsCallFailed extends Exception {
        final SdkException cause;

        KmsCallFailed(SdkException cause) {
            super(cause.getMessage(), cause, false, false);
            this.cause = cause;
        }
    }

    private byte[] seal(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException, KmsCallFailed {
        GenerateDataKeyResponse dataKey;
        try {
            dataKey = kms.generateDataKey(r -> r.keyId(arn).keySpec(DataKeySpec.AES_256)
                    .encryptionContext(KmsEncryptionContext.of(associatedData)));
        } catch (SdkException e) {
            throw new KmsCallFailed(e);
        }
        byte[] key = dataKey.plaintext().asByteArray();
        byte[] blob = dataKey.ciphertextBlob().asByteArray();
        try {
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, nonce));
            if (associatedData != null) {
                cipher.updateAAD(associatedData);
            }
            byte[] sealed = cipher.doFinal(plaintext);
            return ByteBuffer.allocate(1 + 2 + blob.length + NONCE_BYTES + sealed.length).put(FORMAT)
                    .putShort((short) blob.length).put(blob).put(nonce).put(sealed).array();
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private byte[] unseal(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException, KmsCallFailed {
        if (ciphertext == null || ciphertext.length < 3 || ciphertext[0] != FORMAT) {
            throw new GeneralSecurityException("not a ciphertext of the awskms key provider");
        }
        int blobLength = ((ciphertext[1] & 0xff) << 8) | (ciphertext[2] & 0xff);
        int nonceAt = 3 + blobLength;
        if (ciphertext.length < nonceAt + NONCE_BYTES + TAG_BITS / 8) {
            throw new GeneralSecurityException("not a ciphertext of the awskms key provider (too short)");
        }
        DecryptResponse dataKey;
        try {
            dataKey = kms.decrypt(r -> r.keyId(arn)
                    .ciphertextBlob(SdkBytes.fromByteArray(Arrays.copyOfRange(ciphertext, 3, nonceAt)))
                    .encryptionContext(KmsEncryptionContext.of(associatedData)));
        } catch (SdkException e) {
            throw new KmsCallFailed(e);
        }
        byte[] key = dataKey.plaintext().asByteArray();
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(TAG_BITS, ciphertext, nonceAt, NONCE_BYTES));
            if (associatedData != null) {
                cipher.updateAAD(associatedData);
            }
            int start = nonceAt + NONCE_BYTES;
            return cipher.doFinal(ciphertext, start, ciphertext.length - start);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** The KEK as Tink's Aead: a KMS that cannot answer is a {@link KekUnavailableException}, another key or binding a bad tag. */
    private final class KmsAead implements Aead {

        @Override
        public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
            try {
                return seal(plaintext, associatedData);
            } catch (KmsCallFailed e) {
                throw unavailable(e.cause);
            }
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
            try {
                return unseal(ciphertext, associatedData);
            } catch (KmsCallFailed e) {
                if (KmsFailure.kind(e.cause) == KmsFailure.Kind.WRONG_KEY) {
                    // Another key, another context or a changed blob: KMS, like a tag check, does not say which.
                    throw new AEADBadTagException("AWS KMS key " + arn + " does not open this ciphertext under this "
                            + "binding");
                }
                throw unavailable(e.cause);
            }
        }

        private KekUnavailableException unavailable(SdkException e) {
            return new KekUnavailableException(KmsFailure.explain(e, new Settings(arn, null, null),
                    "the server's AWS credentials"), e);
        }
    }
}
