package dev.tresor.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;

class CsrBuilderTest {

    private static final String WORKLOAD = "spiffe://tresor.local/ns/openemr/sa/openemr";

    private final KeyPair keyPair = KeyPairs.generateP256();

    @Test
    void requestsAUriIdentityAsSanWithTheLastSegmentAsCn() throws Exception {
        PKCS10CertificationRequest csr = CsrBuilder.create(keyPair, WORKLOAD);
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(keyPair.getPublic()))).isTrue();
        assertThat(IETFUtils.valueToString(csr.getSubject().getRDNs(BCStyle.CN)[0].getFirst().getValue())).isEqualTo("openemr");
        Extensions requested = Extensions.getInstance(
                csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)[0].getAttrValues().getObjectAt(0));
        GeneralNames sans = GeneralNames.fromExtensions(requested, Extension.subjectAlternativeName);
        assertThat(sans.getNames()).containsExactly(new GeneralName(GeneralName.uniformResourceIdentifier, WORKLOAD));
    }

    @Test
    void requestsACnIdentityAsCnOnly() {
        PKCS10CertificationRequest csr = CsrBuilder.create(keyPair, "alice");
        assertThat(csr.getSubject().toString()).isEqualTo("CN=alice");
        assertThat(csr.getAttributes()).isEmpty();
    }

    @Test
    void refusesInvalidIdentities() {
        assertThatThrownBy(() -> CsrBuilder.create(keyPair, "spiffe://x/../a"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'..'");
    }

    @Test
    void roundTripsThroughPem() {
        PKCS10CertificationRequest csr = CsrBuilder.create(keyPair, WORKLOAD);
        String pem = CsrBuilder.toPem(csr);
        assertThat(pem).startsWith("-----BEGIN CERTIFICATE REQUEST-----\n");
        assertThat(CsrBuilder.parsePem(pem)).isEqualTo(csr);
    }

    @Test
    void rejectsGarbageAndHugeInput() {
        assertThatThrownBy(() -> CsrBuilder.parsePem("garbage"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("certificate request is not PEM");
        assertThatThrownBy(() -> CsrBuilder.parsePem(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> CsrBuilder.parsePem(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> CsrBuilder.parsePem("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a valid PKCS#10 certificate request");
        assertThatThrownBy(() -> CsrBuilder.parsePem(Pem.encodeCertificate(TestCaHolder.CA.certificate())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 '-----BEGIN CERTIFICATE REQUEST-----' blocks");
        String huge = CsrBuilder.toPem(CsrBuilder.create(keyPair, "alice")) + "x".repeat(CsrBuilder.MAX_PEM_CHARS);
        assertThatThrownBy(() -> CsrBuilder.parsePem(huge))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than 64 KiB");
    }

    @Test
    void refusesDeeplyNestedDerWithoutCrashing() {
        // Thousands of nested SEQUENCEs fit in 64 KiB of PEM; parsing must fail cleanly, not overflow the stack.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] nested = new byte[0];
        while (nested.length < 45_000) {
            out.reset();
            out.write(0x30);
            writeLength(out, nested.length);
            out.writeBytes(nested);
            nested = out.toByteArray();
        }
        String pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder().encodeToString(nested)
                + "\n-----END CERTIFICATE REQUEST-----\n";
        assertThatThrownBy(() -> CsrBuilder.parsePem(pem)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mutatedRequestsOnlyEverFailWithIllegalArgumentException() throws Exception {
        String valid = CsrBuilder.toPem(CsrBuilder.create(keyPair, WORKLOAD));
        byte[] der = CsrBuilder.parsePem(valid).toASN1Structure().getEncoded(ASN1Encoding.DER);
        Random random = new Random(42);
        for (int i = 0; i < 3000; i++) {
            byte[] mutated = der.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            if (random.nextInt(10) == 0) {
                mutated = Arrays.copyOf(mutated, random.nextInt(mutated.length));
            }
            String pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder().encodeToString(mutated)
                    + "\n-----END CERTIFICATE REQUEST-----\n";
            try {
                PKCS10CertificationRequest parsed = CsrBuilder.parsePem(pem);
                // Whatever parses must also be handled cleanly by the CA.
                TestCaHolder.CA.signCsr(parsed, WORKLOAD, Duration.ofHours(1));
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length);
        } else {
            out.write(0x83);
            out.write(length >> 16);
            out.write(length >> 8);
            out.write(length);
        }
    }

    /** One CA for the whole class: creating one per test would only add noise. */
    private static final class TestCaHolder {
        static final CertificateAuthority CA = CertificateAuthority.create("tresor.local", Duration.ofDays(1), Clock.systemUTC());
    }
}
