package dev.tresor.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the ACL head vouches for: every client row with that row's MAC, and every retired
 * identity with the time it was retired.
 *
 * <p>A client row counts only if it is listed here with exactly its MAC: a deleted client's old
 * row put back, or a row copied from an older backup, verifies on its own but is not the listed
 * one and so is refused.
 *
 * <p>A retired identity is one whose client was deleted. Certificates issued for it before then
 * must stay refused when a client with the same identity is created again, so a client with a
 * retired identity accepts only certificates whose notBefore is not earlier than the retirement
 * (at second precision, as certificates carry it). Entries older than the longest certificate
 * lifetime are dropped: no certificate from before them can still be valid.
 *
 * <p>A revoked certificate is listed by serial with the time it was revoked (schema 8): the
 * {@code issued_certs} row's revocation columns are only a copy for listings, so clearing them in
 * the database revokes nothing back. An entry is kept for the longest certificate lifetime after
 * its revocation, which bounds how long the certificate can still be valid without trusting the
 * row's {@code not_after}.
 *
 * <p>Encoding: {@code name:base64(mac)} for clients, {@code !base64url(identity):millis} for
 * retired identities and {@code #serial:millis} (lower-case hex) for revoked certificates, joined
 * by ','; client names cannot contain '!', '#', ':' or ','.
 */
record Registry(SortedMap<String, String> macsByClient, SortedMap<String, Long> retiredAt,
                SortedMap<String, Long> revokedAt) {

    private static final char RETIRED = '!';
    private static final char REVOKED = '#';

    Registry {
        macsByClient = Collections.unmodifiableSortedMap(new TreeMap<>(macsByClient));
        retiredAt = Collections.unmodifiableSortedMap(new TreeMap<>(retiredAt));
        revokedAt = Collections.unmodifiableSortedMap(new TreeMap<>(revokedAt));
    }

    static Registry empty() {
        return new Registry(new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
    }

    static Registry parse(String text) {
        SortedMap<String, String> clients = new TreeMap<>();
        SortedMap<String, Long> retired = new TreeMap<>();
        SortedMap<String, Long> revoked = new TreeMap<>();
        if (text != null && !text.isEmpty()) {
            for (String entry : text.split(",", -1)) {
                int colon = entry.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("malformed registry entry");
                }
                String key = entry.substring(0, colon);
                String value = entry.substring(colon + 1);
                if (key.charAt(0) == RETIRED) {
                    String identity = new String(Base64.getUrlDecoder().decode(key.substring(1)), StandardCharsets.UTF_8);
                    retired.put(identity, Long.parseLong(value));
                } else if (key.charAt(0) == REVOKED) {
                    String serial = key.substring(1);
                    if (!serial.matches("[0-9a-f]{1,64}")) {
                        throw new IllegalArgumentException("malformed revoked serial");
                    }
                    revoked.put(serial, Long.parseLong(value));
                } else {
                    clients.put(key, value);
                }
            }
        }
        return new Registry(clients, retired, revoked);
    }

    String encode() {
        StringBuilder out = new StringBuilder();
        macsByClient.forEach((name, mac) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(name).append(':').append(mac);
        });
        retiredAt.forEach((identity, at) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(RETIRED).append(Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(identity.getBytes(StandardCharsets.UTF_8))).append(':').append(at);
        });
        revokedAt.forEach((serial, at) -> {
            if (!out.isEmpty()) {
                out.append(',');
            }
            out.append(REVOKED).append(serial).append(':').append(at);
        });
        return out.toString();
    }

    boolean lists(String client, byte[] mac) {
        String listed = macsByClient.get(client);
        return listed != null && MessageDigest.isEqual(listed.getBytes(StandardCharsets.US_ASCII),
                Base64.getEncoder().encodeToString(mac).getBytes(StandardCharsets.US_ASCII));
    }

    Registry with(String client, byte[] mac) {
        SortedMap<String, String> map = new TreeMap<>(macsByClient);
        map.put(client, Base64.getEncoder().encodeToString(mac));
        return new Registry(map, retiredAt, revokedAt);
    }

    Registry without(String client) {
        SortedMap<String, String> map = new TreeMap<>(macsByClient);
        map.remove(client);
        return new Registry(map, retiredAt, revokedAt);
    }

    /** Records that {@code identity} was retired at {@code atMillis}; drops entries retired before {@code forgetBefore}. */
    Registry retire(String identity, long atMillis, long forgetBefore) {
        SortedMap<String, Long> retired = new TreeMap<>(retiredAt);
        retired.values().removeIf(at -> at < forgetBefore);
        retired.merge(identity, atMillis, Math::max);
        return new Registry(macsByClient, retired, revokedAt);
    }

    /**
     * Lists {@code serial} (lower-case hex) as revoked at {@code atMillis}, keeping an earlier
     * revocation time; drops entries revoked before {@code forgetBefore}.
     */
    Registry revoke(String serial, long atMillis, long forgetBefore) {
        SortedMap<String, Long> revoked = new TreeMap<>(revokedAt);
        revoked.values().removeIf(at -> at < forgetBefore);
        revoked.merge(serial, atMillis, Math::min);
        return new Registry(macsByClient, retiredAt, revoked);
    }

    boolean revoked(String serial) {
        return revokedAt.containsKey(serial);
    }

    /** When {@code identity} was last retired, if it was. */
    Optional<Long> retiredAt(String identity) {
        return Optional.ofNullable(retiredAt.get(identity));
    }

    Map<String, String> asMap() {
        return macsByClient;
    }
}
