package dev.tresor.testkit.kms;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The four KMS operations Tresor uses, on parsed JSON requests: Encrypt, Decrypt, GenerateDataKey
 * and DescribeKey, with AWS's field names and AWS's errors (NotFoundException for an unknown key or
 * alias, InvalidCiphertextException for a blob that does not open under the given context,
 * IncorrectKeyException for a blob of another key than the request names).
 */
final class KmsOperations {

    /** An answer: a JSON body (200), or an error. */
    record Answer(Map<String, Object> body, KmsError error) {
        static Answer ok(Map<String, Object> body) {
            return new Answer(body, null);
        }

        static Answer fail(KmsError error) {
            return new Answer(null, error);
        }
    }

    private final KmsKeys keys;
    private final SecureRandom random = new SecureRandom();

    KmsOperations(KmsKeys keys) {
        this.keys = keys;
    }

    /** The ARN of the key a request is about, for an AccessDeniedException's message; the KeyId as given if unknown. */
    String resource(Map<String, Object> request) {
        String keyId = (String) request.get("KeyId");
        if (keyId == null && request.get("CiphertextBlob") instanceof String blob) {
            return keys.keyOf(decode(blob)).map(KmsKeys.Key::arn).orElse("*");
        }
        return keys.find(keyId).map(KmsKeys.Key::arn).orElse(String.valueOf(keyId));
    }

    Answer apply(String operation, Map<String, Object> request) {
        try {
            return switch (operation) {
                case "DescribeKey" -> withKey(request, this::describe);
                case "Encrypt" -> withKey(request, key -> Answer.ok(Map.of("KeyId", key.arn(), "EncryptionAlgorithm",
                        "SYMMETRIC_DEFAULT", "CiphertextBlob", encode(keys.encrypt(key,
                                decode((String) request.get("Plaintext")), context(request))))));
                case "GenerateDataKey" -> withKey(request, key -> generateDataKey(key, request));
                case "Decrypt" -> decrypt(request);
                default -> Answer.fail(new KmsError(400, "UnknownOperationException", null));
            };
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            return Answer.fail(new KmsError(400, "ValidationException", "1 validation error detected: " + e.getMessage()));
        }
    }

    private interface KeyOperation {
        Answer on(KmsKeys.Key key) throws GeneralSecurityException;
    }

    private Answer withKey(Map<String, Object> request, KeyOperation operation) {
        String keyId = (String) request.get("KeyId");
        if (keyId == null) {
            return Answer.fail(new KmsError(400, "ValidationException", "1 validation error detected: KeyId is required"));
        }
        Optional<KmsKeys.Key> key = keys.find(keyId);
        if (key.isEmpty()) {
            return Answer.fail(KmsError.notFound(keys.describeMissing(keyId)));
        }
        try {
            return operation.on(key.get());
        } catch (GeneralSecurityException e) {
            return Answer.fail(new KmsError(500, "KMSInternalException", null));
        }
    }

    private Answer describe(KmsKeys.Key key) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("AWSAccountId", key.arn().split(":")[4]);
        metadata.put("KeyId", key.id());
        metadata.put("Arn", key.arn());
        metadata.put("Enabled", true);
        metadata.put("KeyState", "Enabled");
        metadata.put("KeyUsage", "ENCRYPT_DECRYPT");
        metadata.put("KeySpec", "SYMMETRIC_DEFAULT");
        metadata.put("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT");
        metadata.put("EncryptionAlgorithms", List.of("SYMMETRIC_DEFAULT"));
        metadata.put("Origin", "AWS_KMS");
        metadata.put("KeyManager", "CUSTOMER");
        return Answer.ok(Map.of("KeyMetadata", metadata));
    }

    private Answer generateDataKey(KmsKeys.Key key, Map<String, Object> request) throws GeneralSecurityException {
        Object spec = request.get("KeySpec");
        Object bytes = request.get("NumberOfBytes");
        int size = bytes instanceof Number n ? n.intValue() : "AES_128".equals(spec) ? 16 : 32;
        byte[] plaintext = new byte[size];
        random.nextBytes(plaintext);
        return Answer.ok(Map.of("KeyId", key.arn(), "Plaintext", encode(plaintext),
                "CiphertextBlob", encode(keys.encrypt(key, plaintext, context(request)))));
    }

    private Answer decrypt(Map<String, Object> request) {
        byte[] blob = decode((String) request.get("CiphertextBlob"));
        Optional<KmsKeys.Key> key = keys.keyOf(blob);
        if (key.isEmpty()) {
            return Answer.fail(KmsError.invalidCiphertext());
        }
        String named = (String) request.get("KeyId");
        if (named != null) {
            Optional<KmsKeys.Key> asked = keys.find(named);
            if (asked.isEmpty()) {
                return Answer.fail(KmsError.notFound(keys.describeMissing(named)));
            }
            if (!asked.get().id().equals(key.get().id())) {
                return Answer.fail(new KmsError(400, "IncorrectKeyException", "The key ID in the request does not "
                        + "identify a CMK that can perform this operation."));
            }
        }
        try {
            byte[] plaintext = keys.decrypt(key.get(), blob, context(request));
            return Answer.ok(Map.of("KeyId", key.get().arn(), "EncryptionAlgorithm", "SYMMETRIC_DEFAULT",
                    "Plaintext", encode(plaintext)));
        } catch (GeneralSecurityException e) {
            return Answer.fail(KmsError.invalidCiphertext());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> context(Map<String, Object> request) {
        Object context = request.get("EncryptionContext");
        return context == null ? Map.of() : (Map<String, String>) context;
    }

    private static byte[] decode(String base64) {
        return Base64.getDecoder().decode(base64);
    }

    private static String encode(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
