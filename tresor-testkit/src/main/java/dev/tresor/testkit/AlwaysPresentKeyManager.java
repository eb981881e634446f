package dev.tresor.testkit;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents one fixed key and chain whenever the key type fits, whatever the peer asks for.
 *
 * <p>Why not the JDK's own key managers: both "PKIX" and "SunX509" silently withhold a client
 * certificate whose issuer is not in the server's CertificateRequest list (and "PKIX" also skips
 * certificates that are expired or have the wrong EKU). A test presenting a certificate from a
 * foreign CA, or an expired one, would then only test "no certificate at all", and the server's
 * own validation would never run. Presenting what the test chose, like curl or a misconfigured
 * client would, makes the server under test do the rejecting.
 */
final class AlwaysPresentKeyManager extends X509ExtendedKeyManager {

    private static final String ALIAS = "tresor-testkit";

    private final PrivateKey key;
    private final X509Certificate[] chain;

    AlwaysPresentKeyManager(PrivateKey key, X509Certificate... chain) {
        this.key = key;
        this.chain = chain.clone();
    }

    /**
     * JSSE asks per key type ("EC", "RSA", "RSASSA-PSS", and "EC_EC"-style names for legacy
     * suites); answering for the wrong type would make it sign with the wrong algorithm.
     */
    private boolean fits(String keyType) {
        String algorithm = key.getAlgorithm();
        return keyType != null && (keyType.equals(algorithm) || keyType.startsWith(algorithm + "_"));
    }

    private String aliasFor(String... keyTypes) {
        if (keyTypes != null) {
            for (String keyType : keyTypes) {
                if (fits(keyType)) {
                    return ALIAS;
                }
            }
        }
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return fits(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return fits(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }
}
