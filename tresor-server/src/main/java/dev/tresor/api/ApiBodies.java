package dev.tresor.api;

import java.util.List;
import java.util.Map;

/** The JSON request bodies of the API; unknown fields are refused with a message naming them. */
final class ApiBodies {

    private ApiBodies() {}

    record PutSecretBody(String value, String valueBase64, String description, String expiresAt, String ttl,
                         List<String> groups, Map<String, String> metadata, Integer cas, List<String> labels) {
        @Override
        public String toString() {
            return "PutSecretBody[(value hidden)]";
        }
    }

    record LabelBody(String label, Integer version, Integer cas) {}

    record GroupBody(String name, String description) {}

    record MembershipBody(String role) {}

    record ClientBody(String name, String identity, Boolean admin) {}

    record SignBody(String client, String csr, String ttl, Boolean reissue) {}

    record RenewBody(String csr, String ttl, String profile) {}

    record RevokeBody(String serial, String identity) {}

    record TokenBody(String identity, String client, String ttl, Integer uses) {}

    record KeyRotateBody(Boolean kek, Boolean keyring, String keyId) {}

    record KeyMigrateBody(String to) {}

    record CaRotateBody(String overlap) {}

    record JoinBody(String token, String csr, String profile) {
        @Override
        public String toString() {
            return "JoinBody[(token hidden)]";
        }
    }
}
