package dev.tresor.ca;

import dev.tresor.crypto.KeyProvider;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;

/**
 * The CA's private key at rest, wrapped by the key provider's KEK (SPEC promise 1: nothing
 * secret is stored in clear). With a {@code pkcs11} provider a copy of the data folder no longer
 * holds a usable CA key; with {@code local} the key is as safe as the data keys beside it.
 *
 * <p>File: one PEM block {@value #LABEL} holding {@code 0x01 | u16 length | KEK id (UTF-8) |
 * AEAD ciphertext of the PKCS#8 key}. The associated data binds the purpose and the SHA-256 of
 * the CA certificate's public key, so a sealed key cannot be swapped for another CA's, nor used
 * for something else wrapped by the same KEK; the KEK id is bound too, so an edited id fails like
 * any other edit, and an error can name the KEK the file was sealed under.
 */
public final class SealedCaKey {

    static final String LABEL = "TRESOR SEALED CA KEY";
    private static final byte FORMAT = 1;
    private static final byte[] PURPOSE = "tresor/ca-key/v1".getBytes(StandardCharsets.US_ASCII);

    private SealedCaKey() {}

    /** Whether {@code file} holds a sealed key (rather than a PEM private key in clear). */
    public static boolean isSealed(Path file) {
        return Pem.parseBlocks(Pem.readText(file), "file " + file).stream().anyMatch(b -> b.label().equals(LABEL));
    }

    /** Writes {@code key} sealed for {@code certificate} under {@code kek}: atomically, mode 0600. */
    public static void write(Path file, PrivateKey key, X509Certificate certificate, KeyProvider kek) {
        byte[] pkcs8 = key.getEncoded();
        if (pkcs8 == null || !"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("the CA key cannot be exported in PKCS#8 form to seal it");
        }
        try {
            byte[] sealed = kek.kek().encrypt(pkcs8, associatedData(certificate, kek.keyId()));
            byte[] id = kek.keyId().getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream out = new ByteArrayOutputStream(3 + id.length + sealed.length);
            out.write(FORMAT);
            out.write(id.length >>> 8);
            out.write(id.length);
            out.writeBytes(id);
            out.writeBytes(sealed);
            Pem.writeAtomically(file, Pem.encode(LABEL, out.toByteArray()), Pem.OWNER_ONLY);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot seal the CA key under KEK " + kek.keyId() + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * Opens the sealed key in {@code file}. Refuses (naming the KEK the file was sealed under) when
     * {@code kek} is not that KEK, the file was edited, or it belongs to another CA certificate.
     */
    public static PrivateKey open(Path file, X509Certificate certificate, KeyProvider kek) {
        List<Pem.Block> blocks = Pem.parseBlocks(Pem.readText(file), "file " + file);
        List<Pem.Block> sealed = blocks.stream().filter(b -> b.label().equals(LABEL)).toList();
        if (sealed.size() != 1 || blocks.size() != 1) {
            throw new IllegalArgumentException("file " + file + " must hold exactly one " + LABEL + " block");
        }
        ByteBuffer in = ByteBuffer.wrap(sealed.getFirst().der());
        if (in.remaining() < 3 || in.get() != FORMAT) {
            throw new IllegalArgumentException("file " + file + " is not a sealed CA key of a format this version reads");
        }
        int idLength = Short.toUnsignedInt(in.getShort());
        if (idLength > in.remaining()) {
            throw new IllegalArgumentException("file " + file + " is a truncated sealed CA key");
        }
        byte[] id = new byte[idLength];
        in.get(id);
        String sealedUnder = new String(id, StandardCharsets.UTF_8);
        byte[] ciphertext = new byte[in.remaining()];
        in.get(ciphertext);
        byte[] pkcs8;
        try {
            pkcs8 = kek.kek().decrypt(ciphertext, associatedData(certificate, sealedUnder));
        } catch (GeneralSecurityException e) {
            String why = sealedUnder.equals(kek.keyId())
                    ? "the file was changed, or it belongs to another CA certificate than " + certificate.getSubjectX500Principal()
                    : "it was sealed under KEK '" + printable(sealedUnder) + "', and the configured KEK is '" + kek.keyId() + "'";
            throw new IllegalArgumentException("the CA key in " + file + " does not open: " + why, e);
        }
        try {
            String algorithm = certificate.getPublicKey().getAlgorithm();
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the CA key in " + file + " opened but is not a valid key: " + e.getMessage(), e);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /** Re-seals {@code file} from {@code from} to {@code to} (a KEK rotation), atomically. */
    public static void rewrap(Path file, X509Certificate certificate, KeyProvider from, KeyProvider to) {
        write(file, open(file, certificate, from), certificate, to);
    }

    private static byte[] associatedData(X509Certificate certificate, String kekId) {
        try {
            byte[] spki = MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded());
            ByteArrayOutputStream aad = new ByteArrayOutputStream();
            aad.writeBytes(PURPOSE);
            aad.write(0);
            aad.writeBytes(spki);
            aad.writeBytes(kekId.getBytes(StandardCharsets.UTF_8));
            return aad.toByteArray();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private static String printable(String s) {
        return s.codePoints().allMatch(c -> c >= 0x20 && c < 0x7f) && s.length() <= 200 ? s : "(unreadable)";
    }
}
