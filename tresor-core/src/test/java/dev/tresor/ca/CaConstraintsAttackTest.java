package dev.tresor.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22, findings 4 and 11: certificates that PKIX alone accepts but Tresor must not.
 * Each test builds the attacker's certificate and tries it in a real TLS handshake on loopback.
 */
class CaConstraintsAttackTest {

    private static final String WORKLOAD = "spiffe://tresor.local/ns/openemr/sa/openemr";
    private static final char[] PW = "pw".toCharArray();

    @TempDir
    Path dir;

    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final CertificateAuthority ca = CertificateAuthority.create("tresor.local", Duration.ofDays(30), Clock.systemUTC());
    private PrivateKey caKey;
    private X500Name caName;

    @BeforeEach
    void exposeTheCaKey() {
        // The attacks below need what only the CA's key can sign (an intermediate, an old-profile
        // leaf): the findings are about what a verifier accepts, not about stealing the key.
        dev.tresor.crypto.LocalKeyProvider kek = dev.tresor.crypto.LocalKeyProvider.create(dir.resolve("kek.json"));
        ca.save(dir.resolve("ca.pem"), dir.resolve("ca-key.pem"), kek);
        caKey = SealedCaKey.open(dir.resolve("ca-key.pem"), ca.certificate(), kek);
        caName = X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded());
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ finding 11: pathLen of the root

    @Test
    void theRootsPathLenZeroRefusesAClientChainThroughAnIntermediate() throws Exception {
        assertThat(ca.certificate().getBasicConstraints()).isZero();
        KeyPair intermediateKeys = KeyPairs.generateP256();
        X509Certificate intermediate = build(caName, caKey, new X500Name("CN=rogue intermediate"),
                intermediateKeys.getPublic(), null, true);
        KeyPair leafKeys = KeyPairs.generateP256();
        X509Certificate leaf = build(new X500Name("CN=rogue intermediate"), intermediateKeys.getPrivate(),
                new X500Name("CN=openemr"), leafKeys.getPublic(),
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, WORKLOAD)), false,
                KeyPurposeId.id_kp_clientAuth);
        SSLContext attacker = TrustMaterial.clientContext(TrustMaterial.keyStore(List.of(leaf, intermediate),
                leafKeys.getPrivate(), PW), PW, TrustMaterial.trustStore(List.of(ca.certificate())));

        Outcome outcome = handshake(server(), attacker, "127.0.0.1");

        assertThat(outcome.serverFailure()).isInstanceOf(SSLException.class);
        assertThat(rootCause(outcome.serverFailure())).hasMessageContaining("pathLen");
        assertThat(outcome.serverIdentity()).isNull();
    }

    @Test
    void aClientChainIssuedDirectlyByTheRootIsStillAccepted() throws Exception {
        Outcome outcome = handshake(server(), client(WORKLOAD), "127.0.0.1");
        assertThat(outcome.serverFailure()).isNull();
        assertThat(outcome.clientFailure()).isNull();
        assertThat(outcome.serverIdentity()).isEqualTo(WORKLOAD);
    }

    // ------------------------------------------------------------------ finding 11: URI identities from the URI SAN only

    @Test
    void aSanLessCertificateWhoseCnReadsLikeASpiffeIdNamesNoIdentity() throws Exception {
        KeyPair keys = KeyPairs.generateP256();
        X509Certificate forged = build(caName, caKey, new X500Name("CN=" + "spiffe://tresor.local/ns/x/sa/admin"),
                keys.getPublic(), null, false, KeyPurposeId.id_kp_clientAuth);
        assertThatThrownBy(() -> Identities.identityOf(forged)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CN identity");
    }

    // ------------------------------------------------------------------ finding 4: a client certificate as the server

    @Test
    void clientCertificatesNoLongerCarryTheServerAuthPurpose() throws Exception {
        KeyPair keys = KeyPairs.generateP256();
        X509Certificate issued = ca.signCsr(CsrBuilder.create(keys, "spiffe://tresor.local/client/localhost"),
                "spiffe://tresor.local/client/localhost", Duration.ofHours(1)).certificate();
        assertThat(issued.getExtendedKeyUsage()).containsExactly(KeyPurposeId.id_kp_clientAuth.getId());
        assertThat(issued.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
    }

    @Test
    void aWorkloadCertificateNamedLocalhostCannotPassAsTheServerForLocalhost() throws Exception {
        // As the CA issued them before the fix: CN = the last path segment, EKU clientAuth + serverAuth,
        // and no DNS name. The JDK's HTTPS host name check falls back to the CN and accepted it.
        KeyPair keys = KeyPairs.generateP256();
        X509Certificate oldProfile = build(caName, caKey, new X500Name("CN=localhost"), keys.getPublic(),
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                        "spiffe://tresor.local/client/localhost")), false,
                KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth);
        SSLContext manInTheMiddle = TrustMaterial.serverContext(TrustMaterial.keyStore(List.of(oldProfile),
                keys.getPrivate(), PW), PW, TrustMaterial.trustStore(List.of(ca.certificate())));

        Outcome outcome = handshake(manInTheMiddle, client(WORKLOAD), "localhost");

        assertThat(outcome.clientFailure()).isInstanceOf(SSLException.class);
        assertThat(rootCause(outcome.clientFailure())).hasMessageContaining("subject CN");
        assertThat(outcome.serverIdentity()).isNull();
    }

    @Test
    void theRealServerCertificateIsAcceptedForLocalhost() throws Exception {
        Outcome outcome = handshake(server(), client(WORKLOAD), "localhost");
        assertThat(outcome.clientFailure()).isNull();
        assertThat(outcome.serverIdentity()).isEqualTo(WORKLOAD);
    }

    // ------------------------------------------------------------------ helpers

    private SSLContext server() {
        KeyPair keys = KeyPairs.generateP256();
        IssuedCertificate cert = ca.issueServer(keys.getPublic(), List.of("localhost", "127.0.0.1"), Duration.ofHours(1));
        return TrustMaterial.serverContext(TrustMaterial.keyStore(cert.chain(), keys.getPrivate(), PW), PW,
                TrustMaterial.trustStore(List.of(ca.certificate())));
    }

    private SSLContext client(String identity) {
        KeyPair keys = KeyPairs.generateP256();
        IssuedCertificate cert = ca.signCsr(CsrBuilder.create(keys, identity), identity, Duration.ofHours(1));
        return TrustMaterial.clientContext(TrustMaterial.keyStore(cert.chain(), keys.getPrivate(), PW), PW,
                TrustMaterial.trustStore(List.of(ca.certificate())));
    }

    private static X509Certificate build(X500Name issuer, PrivateKey signer, X500Name subject, PublicKey key,
                                         GeneralNames sans, boolean isCa, KeyPurposeId... purposes) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                new BigInteger(64, new SecureRandom()).setBit(63), Date.from(now.minusSeconds(60)),
                Date.from(now.plus(Duration.ofHours(1))), subject, key);
        builder.addExtension(Extension.basicConstraints, true, isCa ? new BasicConstraints(true) : new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true,
                new KeyUsage(isCa ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
        if (purposes.length > 0) {
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
        }
        if (sans != null) {
            builder.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    }

    private static Throwable rootCause(Throwable t) {
        Throwable cause = t;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    private record Outcome(String serverIdentity, Throwable serverFailure, Throwable clientFailure) {}

    /** One connection on loopback; the client checks the server's name as HTTPS does, for {@code host}. */
    private Outcome handshake(SSLContext server, SSLContext client, String host) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            Future<String> serverSide = executor.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(10_000);
                    accepted.startHandshake();
                    String identity = Identities.identityOf((X509Certificate) accepted.getSession().getPeerCertificates()[0]);
                    accepted.getOutputStream().write(42);
                    accepted.getOutputStream().flush();
                    return identity;
                }
            });
            Throwable clientFailure = null;
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(host, listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                socket.startHandshake();
                if (socket.getInputStream().read() != 42) {
                    throw new SSLException("server closed the connection without answering");
                }
            } catch (Exception e) {
                clientFailure = e;
            }
            try {
                return new Outcome(serverSide.get(10, TimeUnit.SECONDS), null, clientFailure);
            } catch (ExecutionException e) {
                return new Outcome(null, e.getCause(), clientFailure);
            }
        }
    }
}
