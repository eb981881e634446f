package dev.tresor.api;

import java.util.Map;

/**
 * The server's key operations behind {@code /v1/keys/...} (admins only; the caller's right is
 * checked by the route). Implemented in the server, which knows the key provider's files.
 */
public interface KeyAdministration {

    /** {@code GET /v1/keys/status}: provider, KEK id, keyring version, primary key, data keys per key id. */
    Map<String, Object> status();

    /**
     * {@code POST /v1/keys/rotate} with {@code kek}: re-wraps everything the KEK wraps under a new
     * KEK; {@code keyId} names the KMS key to move to (awskms, where it is required), else null.
     */
    Map<String, Object> rotateKek(String keyId);

    /**
     * {@code POST /v1/keys/rotate} with {@code keyring}: a fresh primary key at once, then every
     * older data key re-wrapped under it in the background, then the older keys retired.
     */
    Map<String, Object> rotateKeyring();

    /**
     * {@code POST /v1/keys/migrate} with {@code to}: moves the KEK to the key provider that
     * {@code spec} (a {@code keyProvider:} block) names, re-wrapping everything the KEK wraps, and
     * rewrites the config's keyProvider block.
     */
    Map<String, Object> migrate(String spec);

    /**
     * {@code POST /v1/ca/rotate}: a CA key rollover while the server runs. A new CA issues from
     * now on; the old one stays trusted (and publishes its CRL) for {@code overlap}, or by default
     * for {@code ca.maxTtl} plus the clock-skew allowance when null.
     */
    Map<String, Object> rotateCa(java.time.Duration overlap);
}
