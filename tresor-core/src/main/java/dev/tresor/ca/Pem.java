package dev.tresor.ca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Strict PEM (RFC 7468) reading and writing for certificates, private keys and CSRs.
 *
 * <p>Reading accepts explanatory text between blocks (as OpenSSL writes it) but nothing
 * ambiguous inside them: BEGIN and END labels must match, the body must be valid base64,
 * legacy headers (encrypted PEM) are refused, and every block must be canonical DER with no
 * trailing bytes. Failures are {@link IllegalArgumentException}s naming the source and what is
 * wrong; I/O failures other than a missing or unreadable file are {@link UncheckedIOException}s.
 *
 * <p>Writing is atomic (temporary file in the same folder, fsync, rename). Private keys are
 * created with mode 0600 from the first byte, so they are never readable by others, not even
 * for an instant.
 */
public final class Pem {

    /** Largest PEM file read: far above any real chain, small enough to refuse a wrong file quickly. */
    public static final int MAX_FILE_BYTES = 1024 * 1024;

    static final String CERTIFICATE = "CERTIFICATE";
    static final String PRIVATE_KEY = "PRIVATE KEY";
    static final String EC_PRIVATE_KEY = "EC PRIVATE KEY";
    static final String RSA_PRIVATE_KEY = "RSA PRIVATE KEY";
    static final String ENCRYPTED_PRIVATE_KEY = "ENCRYPTED PRIVATE KEY";
    static final String CERTIFICATE_REQUEST = "CERTIFICATE REQUEST";
    /** Label written by some older tools (Netscape, early OpenSSL) for the same structure. */
    static final String NEW_CERTIFICATE_REQUEST = "NEW CERTIFICATE REQUEST";

    static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private static final Set<PosixFilePermission> WORLD_READABLE = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
    private static final Pattern BEGIN_LINE = Pattern.compile("-----BEGIN ([A-Z0-9][A-Z0-9 ]{0,62})-----");
    private static final Pattern END_LINE = Pattern.compile("-----END ([A-Z0-9][A-Z0-9 ]{0,62})-----");
    private static final int LINE_LENGTH = 64;

    private Pem() {}

    /** Our own diagnosis of bad input, passed through untouched by the catch-all wrappers below. */
    private static final class InvalidInput extends IllegalArgumentException {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        InvalidInput(String message) {
            super(message);
        }
    }

    /** One decoded PEM block. */
    record Block(String label, byte[] der) {}

    // ---------------------------------------------------------------- certificates

    /** Every CERTIFICATE block of a file, in file order (leaf first, by convention). At least one. */
    public static List<X509Certificate> readCertificates(Path file) {
        return parseCertificates(readText(file), "file " + file);
    }

    /** The single certificate of a file; a file with several certificates is refused. */
    public static X509Certificate readCertificate(Path file) {
        List<X509Certificate> certificates = readCertificates(file);
        if (certificates.size() != 1) {
            throw new IllegalArgumentException("file " + file + " holds " + certificates.size()
                    + " certificates; exactly one was expected");
        }
        return certificates.getFirst();
    }

    /**
     * Every CERTIFICATE block of a PEM text. Other block types are skipped, so a combined
     * cert+key file works, but at least one certificate must be present.
     *
     * @param source names the input in error messages, e.g. "file /etc/tresor/ca.pem"
     */
    public static List<X509Certificate> parseCertificates(String pem, String source) {
        List<X509Certificate> certificates = new ArrayList<>();
        List<Block> blocks = parseBlocks(pem, source);
        for (Block block : blocks) {
            if (block.label().equals(CERTIFICATE)) {
                certificates.add(decodeCertificate(block.der(), source + ", certificate #" + (certificates.size() + 1)));
            }
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no '-----BEGIN " + CERTIFICATE + "-----' block"
                    + foundLabels(blocks));
        }
        return List.copyOf(certificates);
    }

    /** PEM text of one or more certificates, in the given order. */
    public static String encodeCertificates(List<X509Certificate> certificates) {
        if (certificates == null || certificates.isEmpty()) {
            throw new IllegalArgumentException("no certificates to encode");
        }
        StringBuilder out = new StringBuilder();
        for (X509Certificate certificate : certificates) {
            try {
                out.append(encode(CERTIFICATE, certificate.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalArgumentException("certificate cannot be encoded: " + e.getMessage(), e);
            }
        }
        return out.toString();
    }

    /** PEM text of one certificate. */
    public static String encodeCertificate(X509Certificate certificate) {
        return encodeCertificates(List.of(certificate));
    }

    /** Writes certificates atomically with mode 0644 (certificates are public). */
    public static void writeCertificates(Path file, List<X509Certificate> certificates) {
        writeAtomically(file, encodeCertificates(certificates), WORLD_READABLE);
    }

    // ---------------------------------------------------------------- private keys

    /** The single private key of a file (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"). */
    public static PrivateKey readPrivateKey(Path file) {
        return parsePrivateKey(readText(file), "file " + file);
    }

    /**
     * The single private key of a PEM text. Other block types (e.g. certificates) are skipped;
     * more than one key is refused, because picking one would be a guess.
     */
    public static PrivateKey parsePrivateKey(String pem, String source) {
        List<Block> blocks = parseBlocks(pem, source);
        List<Block> keys = new ArrayList<>();
        for (Block block : blocks) {
            switch (block.label()) {
                case PRIVATE_KEY, EC_PRIVATE_KEY, RSA_PRIVATE_KEY -> keys.add(block);
                case ENCRYPTED_PRIVATE_KEY -> throw new IllegalArgumentException(source
                        + " holds an encrypted private key; decrypt it first (openssl pkcs8 -in KEY -out PLAIN)"
                        + " and protect the file with mode 0600 instead");
                default -> { }
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no private key (expected '-----BEGIN PRIVATE KEY-----'"
                    + " or '-----BEGIN EC PRIVATE KEY-----')" + foundLabels(blocks));
        }
        if (keys.size() > 1) {
            throw new IllegalArgumentException(source + " holds " + keys.size() + " private keys; exactly one was expected");
        }
        Block key = keys.getFirst();
        try {
            return switch (key.label()) {
                case PRIVATE_KEY -> decodePkcs8(key.der(), source);
                case EC_PRIVATE_KEY -> decodePkcs8(sec1ToPkcs8(key.der(), source), source);
                case RSA_PRIVATE_KEY -> decodePkcs8(pkcs1ToPkcs8(key.der(), source), source);
                default -> throw new IllegalStateException("unreachable: " + key.label());
            };
        } finally {
            // The decoded key bytes are secret; do not leave them for the garbage collector to keep around.
            Arrays.fill(key.der(), (byte) 0);
        }
    }

    /** PEM text of a private key in PKCS#8 form. Handle the result as a secret. */
    public static String encodePrivateKey(PrivateKey key) {
        if (key == null || !"PKCS#8".equals(key.getFormat()) || key.getEncoded() == null) {
            throw new IllegalArgumentException("private key cannot be exported in PKCS#8 form"
                    + (key == null ? "" : " (format " + key.getFormat() + ")"));
        }
        byte[] der = key.getEncoded();
        try {
            return encode(PRIVATE_KEY, der);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /**
     * Writes a private key atomically. The temporary file is created with mode 0600, so the key
     * is never readable by group or others at any moment; an existing file is replaced.
     */
    public static void writePrivateKey(Path file, PrivateKey key) {
        writeAtomically(file, encodePrivateKey(key), OWNER_ONLY);
    }

    // ---------------------------------------------------------------- CSRs

    /** The single certificate request of a file. */
    public static PKCS10CertificationRequest readCsr(Path file) {
        return parseCsr(readText(file), "file " + file);
    }

    /** The single "CERTIFICATE REQUEST" block of a PEM text. */
    public static PKCS10CertificationRequest parseCsr(String pem, String source) {
        List<Block> blocks = parseBlocks(pem, source);
        List<Block> requests = blocks.stream()
                .filter(b -> b.label().equals(CERTIFICATE_REQUEST) || b.label().equals(NEW_CERTIFICATE_REQUEST))
                .toList();
        if (requests.size() != 1) {
            throw new IllegalArgumentException(source + " holds " + requests.size()
                    + " '-----BEGIN " + CERTIFICATE_REQUEST + "-----' blocks; exactly one was expected" + foundLabels(blocks));
        }
        return decodeCsr(requests.getFirst().der(), source);
    }

    /** PEM text of a certificate request. */
    public static String encodeCsr(PKCS10CertificationRequest csr) {
        try {
            return encode(CERTIFICATE_REQUEST, csr.getEncoded());
        } catch (IOException e) {
            throw new IllegalArgumentException("certificate request cannot be encoded: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- decoding

    static X509Certificate decodeCertificate(byte[] der, String source) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            X509Certificate certificate = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der));
            // Refuse BER, trailing bytes and other non-canonical encodings: what was signed must be what we read.
            if (!Arrays.equals(certificate.getEncoded(), der)) {
                throw new InvalidInput(source + " is not a canonical DER certificate (trailing or non-DER bytes)");
            }
            return certificate;
        } catch (InvalidInput e) {
            throw e;
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(source + " is not a valid X.509 certificate: " + e.getMessage(), e);
        }
    }

    static PKCS10CertificationRequest decodeCsr(byte[] der, String source) {
        try {
            PKCS10CertificationRequest csr = new PKCS10CertificationRequest(der);
            if (!Arrays.equals(csr.getEncoded(), der)) {
                throw new InvalidInput(source + " is not a canonical DER certificate request");
            }
            // Touch the parts the CA will use, so malformed inner structures fail here with a clear message.
            csr.getSubject();
            csr.getSubjectPublicKeyInfo();
            csr.getSignatureAlgorithm();
            csr.getAttributes();
            return csr;
        } catch (InvalidInput e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source + " is not a valid PKCS#10 certificate request: " + e.getMessage(), e);
        }
    }

    private static PrivateKey decodePkcs8(byte[] der, String source) {
        try {
            PrivateKeyInfo info = PrivateKeyInfo.getInstance(ASN1Primitive.fromByteArray(der));
            var algorithm = info.getPrivateKeyAlgorithm().getAlgorithm();
            String keyFactoryAlgorithm;
            if (X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
                keyFactoryAlgorithm = "EC";
            } else if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)) {
                keyFactoryAlgorithm = "RSA";
            } else {
                throw new InvalidInput(source + " holds a private key of unsupported algorithm "
                        + algorithm.getId() + "; only EC and RSA keys are supported");
            }
            return KeyFactory.getInstance(keyFactoryAlgorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (InvalidInput e) {
            throw e;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(source + " holds a malformed private key: " + e.getMessage(), e);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** SEC1 (RFC 5915) keys name their curve inside; PKCS#8 moves it to the algorithm identifier. */
    private static byte[] sec1ToPkcs8(byte[] der, String source) {
        try {
            ECPrivateKey sec1 = ECPrivateKey.getInstance(ASN1Primitive.fromByteArray(der));
            ASN1Encodable curve = sec1.getParametersObject();
            if (curve == null) {
                throw new InvalidInput(source + " holds an EC PRIVATE KEY without its curve parameters;"
                        + " convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)");
            }
            return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), sec1).getEncoded();
        } catch (InvalidInput e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source + " holds a malformed EC PRIVATE KEY: " + e.getMessage(), e);
        }
    }

    /** PKCS#1 (what "openssl genrsa" used to write) is the bare key; PKCS#8 wraps it with its algorithm. */
    private static byte[] pkcs1ToPkcs8(byte[] der, String source) {
        try {
            RSAPrivateKey pkcs1 = RSAPrivateKey.getInstance(ASN1Primitive.fromByteArray(der));
            return new PrivateKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE), pkcs1)
                    .getEncoded();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source + " holds a malformed RSA PRIVATE KEY: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- PEM framing

    /**
     * Splits a PEM text into blocks. Text outside blocks is ignored (RFC 7468 explanatory text);
     * inside a block only base64 lines are allowed. At least one block must be present.
     */
    static List<Block> parseBlocks(String pem, String source) {
        if (pem == null || pem.isBlank()) {
            throw new IllegalArgumentException(source + " is empty; expected PEM text ('-----BEGIN ...-----')");
        }
        List<Block> blocks = new ArrayList<>();
        String label = null;
        int beginLine = 0;
        StringBuilder base64 = new StringBuilder();
        String[] lines = pem.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            int lineNumber = i + 1;
            if (label == null) {
                if (line.startsWith("-----BEGIN")) {
                    Matcher begin = BEGIN_LINE.matcher(line);
                    if (!begin.matches()) {
                        throw new IllegalArgumentException(source + ", line " + lineNumber + ": malformed BEGIN line");
                    }
                    label = begin.group(1);
                    beginLine = lineNumber;
                    base64.setLength(0);
                } else if (line.startsWith("-----END")) {
                    throw new IllegalArgumentException(source + ", line " + lineNumber + ": END line without a BEGIN line");
                }
                continue;
            }
            if (line.startsWith("-----")) {
                Matcher end = END_LINE.matcher(line);
                if (!end.matches()) {
                    throw new IllegalArgumentException(source + ", line " + lineNumber + ": expected '-----END " + label
                            + "-----' to close the block opened on line " + beginLine);
                }
                if (!end.group(1).equals(label)) {
                    throw new IllegalArgumentException(source + ", line " + lineNumber + ": '-----END " + end.group(1)
                            + "-----' does not match '-----BEGIN " + label + "-----' on line " + beginLine);
                }
                blocks.add(new Block(label, decodeBase64(base64, source, label, beginLine)));
                label = null;
                continue;
            }
            if (line.indexOf(':') >= 0) {
                throw new IllegalArgumentException(source + ", line " + lineNumber + ": PEM headers (such as"
                        + " 'Proc-Type: 4,ENCRYPTED') are not supported; use an unencrypted PKCS#8 key with mode 0600");
            }
            base64.append(line);
        }
        if (label != null) {
            throw new IllegalArgumentException(source + ": '-----BEGIN " + label + "-----' on line " + beginLine
                    + " has no matching END line (truncated file?)");
        }
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException(source + " is not PEM: no '-----BEGIN ...-----' line found");
        }
        return blocks;
    }

    private static byte[] decodeBase64(StringBuilder base64, String source, String label, int beginLine) {
        if (base64.isEmpty()) {
            throw new IllegalArgumentException(source + ": the " + label + " block on line " + beginLine + " is empty");
        }
        try {
            return Base64.getDecoder().decode(base64.toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": the " + label + " block on line " + beginLine
                    + " is not valid base64 (" + e.getMessage() + ")", e);
        } finally {
            // The block may be a private key.
            base64.setLength(0);
        }
    }

    static String encode(String label, byte[] der) {
        String base64 = Base64.getEncoder().encodeToString(der);
        StringBuilder out = new StringBuilder(base64.length() + base64.length() / LINE_LENGTH + 64);
        out.append("-----BEGIN ").append(label).append("-----\n");
        for (int i = 0; i < base64.length(); i += LINE_LENGTH) {
            out.append(base64, i, Math.min(base64.length(), i + LINE_LENGTH)).append('\n');
        }
        out.append("-----END ").append(label).append("-----\n");
        return out.toString();
    }

    private static String foundLabels(List<Block> blocks) {
        return " (found: " + String.join(", ", blocks.stream().map(Block::label).distinct().toList()) + ")";
    }

    // ---------------------------------------------------------------- files

    /** Reads a PEM file as ASCII, refusing oversized and binary files. */
    static String readText(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            // Read at most one byte past the limit instead of trusting the size reported before reading.
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file " + file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("file " + file + " is not readable (permission denied)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read file " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("file " + file + " is larger than " + MAX_FILE_BYTES
                    + " bytes; it is not a PEM certificate, key or request");
        }
        try {
            return StandardCharsets.US_ASCII.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("file " + file + " is not PEM text (it contains binary data;"
                    + " DER files must be converted, e.g. openssl x509 -inform der -in FILE)", e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Writes text to a temporary file created with the final permissions, forces it to disk and
     * renames it over the target, so readers see either the old or the new content, never a mix.
     */
    static void writeAtomically(Path file, String content, Set<PosixFilePermission> permissions) {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(permissions);
        Path tmp = null;
        byte[] bytes = content.getBytes(StandardCharsets.US_ASCII);
        try {
            Files.createDirectories(dir);
            // Created with its final mode: the umask can only remove bits, never add them.
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp", mode);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            // createTempFile honours the umask; re-apply so a world-readable certificate stays readable.
            Files.setPosixFilePermissions(tmp, permissions);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            fsyncDirectory(dir);
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot write " + file + ": the file system does not support POSIX"
                    + " permissions, so the file could not be protected", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Best effort; the original error is more useful to the caller.
                }
            }
        }
    }

    /** Makes the rename itself durable; best effort because not every platform can open a folder. */
    private static void fsyncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException ignored) {
            // The data is on disk; only the rename might be lost by a crash in the next moment.
        }
    }
}
