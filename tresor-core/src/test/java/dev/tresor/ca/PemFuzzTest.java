package dev.tresor.ca;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Fuzzes PEM input (certificates, private keys, CSRs) and CSR signing, which is what a client
 * sends to {@code POST /v1/ca/sign}: malformed input must be refused with an
 * {@link IllegalArgumentException}, nothing else. Seeds: src/test/resources/dev/tresor/ca/PemFuzzTestInputs/.
 */
class PemFuzzTest {

    private final CertificateAuthority ca = CertificateAuthority.create("fuzz.test", Duration.ofDays(30), Clock.systemUTC());

    @FuzzTest(maxDuration = "10s")
    void certificates(byte[] input) {
        String pem = new String(input, StandardCharsets.UTF_8);
        try {
            assertThat(Pem.parseCertificates(pem, "fuzz")).isNotEmpty();
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @FuzzTest(maxDuration = "10s")
    void privateKey(byte[] input) {
        String pem = new String(input, StandardCharsets.UTF_8);
        try {
            assertThat(Pem.parsePrivateKey(pem, "fuzz")).isNotNull();
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /** A CSR as the API receives it, then signed for a fixed identity: refused cleanly or issued for that identity only. */
    @FuzzTest(maxDuration = "10s")
    void csrSigning(byte[] input) {
        String pem = new String(input, StandardCharsets.UTF_8);
        PKCS10CertificationRequest csr;
        try {
            csr = CsrBuilder.parsePem(pem);
        } catch (IllegalArgumentException expected) {
            return;
        }
        String identity = "spiffe://fuzz.test/ns/fuzz/sa/app";
        try {
            IssuedCertificate issued = ca.signCsr(csr, identity, Duration.ofHours(1));
            assertThat(Identities.identityOf(issued.certificate())).isEqualTo(identity);
        } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
