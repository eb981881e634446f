package dev.tresor.tunnel.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents whatever {@link CertificateSource#current()} holds at the moment of each handshake.
 * Every material gets its own alias, and the last few stay resolvable, so a handshake that chose
 * an alias just before a renewal still gets a chain and key that belong together.
 *
 * <p>The certificate is presented whatever issuers the peer lists (as ghostunnel and stunnel
 * do): the peer decides what it trusts, and a clear "untrusted" on its side beats a silent
 * "no certificate" here.
 */
final class ReloadingKeyManager extends X509ExtendedKeyManager {

    private static final int KEPT = 4;

    private final Map<String, KeyMaterial> recent = new LinkedHashMap<>();
    private volatile String currentAlias;
    private long generation;

    ReloadingKeyManager(CertificateSource source) {
        install(source.current());
        source.onChange(this::install);
    }

    private synchronized void install(KeyMaterial material) {
        String alias = "tresor-" + (++generation);
        recent.put(alias, material);
        while (recent.size() > KEPT) {
            recent.remove(recent.keySet().iterator().next());
        }
        currentAlias = alias;
    }

    private synchronized KeyMaterial material(String alias) {
        return alias == null ? null : recent.get(alias);
    }

    private String aliasFor(String keyType) {
        String alias = currentAlias;
        KeyMaterial material = material(alias);
        if (material == null || keyType == null) {
            return null;
        }
        String algorithm = material.key().getAlgorithm();
        return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_") ? alias : null;
    }

    private String aliasFor(String[] keyTypes) {
        if (keyTypes == null) {
            return null;
        }
        for (String keyType : keyTypes) {
            String alias = aliasFor(keyType);
            if (alias != null) {
                return alias;
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
        String alias = aliasFor(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return getClientAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        KeyMaterial material = material(alias);
        return material == null ? null : material.chain().toArray(X509Certificate[]::new);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        KeyMaterial material = material(alias);
        return material == null ? null : material.key();
    }
}
