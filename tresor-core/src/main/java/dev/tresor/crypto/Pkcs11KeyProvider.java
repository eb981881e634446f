package dev.tresor.crypto;

import com.google.crypto.tink.Aead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.Security;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The KEK is a non-extractable AES-256 key on a PKCS#11 token (an HSM; tested with SoftHSM2),
 * used through the JDK's SunPKCS11 provider. Wrapping is AES-GCM under that key with a random
 * 96-bit nonce (SoftHSM through SunPKCS11 exposes no AES key-wrap mechanism, and GCM also binds
 * the associated data). Format: {@code 0x01 | nonce (12) | ciphertext | tag (16)}.
 *
 * <p>The provider instance is private to this object (never registered with {@link Security}), so
 * two stores on two tokens do not share global state. The PIN logs the token in once, at open,
 * and is zeroed; it comes from a file or an environment variable ({@link Pin}), never the config.
 * Only start-up and keyring changes call the token, so reads do not depend on it.
 */
public final class Pkcs11KeyProvider implements KeyProvider {

    private static final byte FORMAT = 0x01;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;

    /**
     * Where the token is: the PKCS#11 library, the slot (its id, as softhsm2-util prints it; or, if
     * null, the slot at {@code slotListIndex} in the library's list), and the key's label.
     */
    public record Settings(Path library, Long slot, Integer slotListIndex, String keyLabel) {
        public Settings {
            Objects.requireNonNull(library, "library");
            Objects.requireNonNull(keyLabel, "keyLabel");
            if (slot != null && slotListIndex != null) {
                throw new IllegalArgumentException("give either slot or slotListIndex, not both");
            }
        }

        String where() {
            return slot != null ? "slot " + slot : "slot list index " + (slotListIndex == null ? 0 : slotListIndex);
        }
    }

    /** Where the PIN comes from: a file (first line) or an environment variable. Never the config itself. */
    public record Pin(Path file, String environmentVariable) {
        public Pin {
            if ((file == null) == (environmentVariable == null)) {
                throw new IllegalArgumentException("give the PIN as exactly one of a file or an environment variable");
            }
        }

        public static Pin fromFile(Path file) {
            return new Pin(file, null);
        }

        public static Pin fromEnvironment(String variable) {
            return new Pin(null, variable);
        }

        /** The PIN's characters; the caller zeroes them. */
        char[] read(Map<String, String> environment) {
            if (file != null) {
                try {
                    String text = Files.readString(file, StandardCharsets.UTF_8);
                    int end = text.indexOf('\n');
                    String line = (end < 0 ? text : text.substring(0, end)).strip();
                    if (line.isEmpty()) {
                        throw new IllegalArgumentException("the PIN file " + file + " is empty");
                    }
                    return line.toCharArray();
                } catch (IOException e) {
                    throw new IllegalArgumentException("cannot read the PIN file " + file + ": " + e.getMessage(), e);
                }
            }
            String value = environment.get(environmentVariable);
            if (value == null || value.isEmpty()) {
                throw new IllegalArgumentException("the environment variable " + environmentVariable
                        + " (keyProvider.pinEnv) that should hold the HSM PIN is not set");
            }
            return value.toCharArray();
        }

        String source() {
            return file != null ? "the PIN file " + file + " (keyProvider.pinFile)"
                    : "the environment variable " + environmentVariable + " (keyProvider.pinEnv)";
        }
    }

    private final Provider provider;
    private final SecretKey key;
    private final String keyId;
    private final Aead aead = new TokenAead();
    private final SecureRandom random = new SecureRandom();

    private Pkcs11KeyProvider(Provider provider, SecretKey key, String keyId) {
        this.provider = provider;
        this.key = key;
        this.keyId = keyId;
    }

    /**
     * Logs in to the token and finds the KEK. Refuses, with a message naming the fix, when the
     * library or slot is missing, the PIN is wrong, the key is absent, or the key is extractable.
     */
    public static Pkcs11KeyProvider open(Settings settings, Pin pin, Map<String, String> environment) {
        Provider provider = provider(settings);
        KeyStore token = login(provider, settings, pin, environment);
        Key found;
        try {
            found = token.getKey(settings.keyLabel(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read key '" + settings.keyLabel() + "' on the HSM token ("
                    + settings.where() + "): " + e.getMessage(), e);
        }
        if (!(found instanceof SecretKey secret) || !"AES".equalsIgnoreCase(secret.getAlgorithm())) {
            throw new IllegalStateException("the HSM token (" + settings.where() + ") holds no AES key labelled '"
                    + settings.keyLabel() + "'; create one (non-extractable AES-256) or fix keyProvider.keyLabel");
        }
        if (secret.getEncoded() != null) {
            // A key whose bytes can be read out is no better than a key file; refuse rather than pretend.
            throw new IllegalStateException("the HSM key '" + settings.keyLabel() + "' is extractable; a KEK must be a "
                    + "non-extractable (sensitive) token key: create a new one and migrate to it");
        }
        return new Pkcs11KeyProvider(provider, secret, "pkcs11:" + settings.keyLabel());
    }

    /**
     * Creates a non-extractable AES-256 token key labelled {@code settings.keyLabel()}; refuses if
     * one exists, so a KEK is never silently replaced. For set-up (and tests).
     */
    public static void generateKey(Settings settings, Pin pin, Map<String, String> environment) {
        Provider provider = provider(settings);
        KeyStore token = login(provider, settings, pin, environment);
        try {
            if (token.containsAlias(settings.keyLabel())) {
                throw new IllegalStateException("the HSM token already holds a key labelled '" + settings.keyLabel()
                        + "'; refusing to replace it");
            }
            KeyGenerator generator = KeyGenerator.getInstance("AES", provider);
            generator.init(256);
            // The provider's configuration (see provider()) makes generated keys sensitive and
            // non-extractable; storing the entry copies it to the token under the label.
            SecretKey session = generator.generateKey();
            token.setEntry(settings.keyLabel(), new KeyStore.SecretKeyEntry(session), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create the AES key on the HSM token (" + settings.where() + "): "
                    + e.getMessage(), e);
        }
    }

    private static Provider provider(Settings settings) {
        if (!Files.isRegularFile(settings.library())) {
            throw new IllegalStateException("the PKCS#11 library " + settings.library() + " does not exist: install the "
                    + "HSM's client (for SoftHSM2: apt-get install softhsm2) or fix keyProvider.library");
        }
        StringBuilder config = new StringBuilder("--name = tresor\nlibrary = ").append(settings.library()).append('\n');
        if (settings.slot() != null) {
            config.append("slot = ").append(settings.slot()).append('\n');
        } else {
            config.append("slotListIndex = ").append(settings.slotListIndex() == null ? 0 : settings.slotListIndex())
                    .append('\n');
        }
        config.append("""
                attributes(generate, CKO_SECRET_KEY, CKK_AES) = {
                  CKA_SENSITIVE = true
                  CKA_EXTRACTABLE = false
                }
                attributes(import, CKO_SECRET_KEY, CKK_AES) = {
                  CKA_SENSITIVE = true
                  CKA_EXTRACTABLE = false
                }
                """);
        Provider base = Security.getProvider("SunPKCS11");
        if (base == null) {
            throw new IllegalStateException("this JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
        }
        try {
            return base.configure(config.toString());
        } catch (ProviderException | java.security.InvalidParameterException e) {
            throw new IllegalStateException("the HSM is not reachable through " + settings.library() + " at "
                    + settings.where() + ": " + rootMessage(e) + " (is the token initialised, and keyProvider.slot right?)",
                    e);
        }
    }

    private static KeyStore login(Provider provider, Settings settings, Pin pin, Map<String, String> environment) {
        char[] secret = pin.read(environment);
        try {
            KeyStore token = KeyStore.getInstance("PKCS11", provider);
            token.load(null, secret);
            return token;
        } catch (IOException e) {
            String why = rootMessage(e);
            if (why.contains("CKR_PIN_INCORRECT") || why.contains("CKR_PIN_LEN_RANGE")
                    || e.getCause() instanceof javax.security.auth.login.FailedLoginException) {
                throw new IllegalStateException("the HSM token (" + settings.where() + ") refused the PIN from "
                        + pin.source() + ": wrong PIN; fix it there (the PIN never goes in the config)", e);
            }
            throw new IllegalStateException("cannot log in to the HSM token (" + settings.where() + "): " + why, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot log in to the HSM token (" + settings.where() + "): " + rootMessage(e), e);
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            out.append(": ").append(t.getMessage());
        }
        return out.toString();
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public Aead kek() {
        return aead;
    }

    /** AES-GCM under the token key; a new Cipher per call because only start-up and key changes use it. */
    private final class TokenAead implements Aead {

        @Override
        public byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", provider);
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            if (associatedData != null) {
                cipher.updateAAD(associatedData);
            }
            byte[] sealed = cipher.doFinal(plaintext);
            return ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length).put(FORMAT).put(nonce).put(sealed).array();
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
            if (ciphertext == null || ciphertext.length < 1 + NONCE_BYTES + TAG_BITS / 8 || ciphertext[0] != FORMAT) {
                throw new GeneralSecurityException("not a ciphertext of the pkcs11 key provider");
            }
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", provider);
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, ciphertext, 1, NONCE_BYTES));
            if (associatedData != null) {
                cipher.updateAAD(associatedData);
            }
            try {
                return cipher.doFinal(ciphertext, 1 + NONCE_BYTES, ciphertext.length - 1 - NONCE_BYTES);
            } catch (ProviderException e) {
                // SunPKCS11 reports a failed tag check as a ProviderException (CKR_ENCRYPTED_DATA_INVALID).
                throw new javax.crypto.AEADBadTagException("decryption failed under the HSM key: " + e.getMessage());
            }
        }
    }
}
