package dev.tresor.crypto.awskms;

import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Where the KMS credentials come from: never the config. The first links of the SDK's default
 * chain (the environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
 * then AWS_PROFILE) are read from the environment map the caller passes (the process environment
 * in a server, a map in a test, so no test sets a system property); anything else (the default
 * profile, web identity, container or instance credentials) is the SDK's default chain itself.
 */
final class AwsCredentials {

    static final String ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
    static final String SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
    static final String SESSION_TOKEN = "AWS_SESSION_TOKEN";
    static final String PROFILE = "AWS_PROFILE";

    private AwsCredentials() {}

    static AwsCredentialsProvider from(Map<String, String> environment) {
        String id = nonEmpty(environment.get(ACCESS_KEY_ID));
        String secret = nonEmpty(environment.get(SECRET_ACCESS_KEY));
        if (id != null && secret != null) {
            String token = nonEmpty(environment.get(SESSION_TOKEN));
            return StaticCredentialsProvider.create(token == null ? AwsBasicCredentials.create(id, secret)
                    : AwsSessionCredentials.create(id, secret, token));
        }
        if ((id == null) != (secret == null)) {
            throw new IllegalStateException("only one of " + ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY
                    + " is set in the server's environment: set both, or neither (to use a profile or an instance role)");
        }
        String profile = nonEmpty(environment.get(PROFILE));
        if (profile != null) {
            return ProfileCredentialsProvider.create(profile);
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /** Where credentials were looked for, for an error message (never the credentials themselves). */
    static String source(Map<String, String> environment) {
        if (nonEmpty(environment.get(ACCESS_KEY_ID)) != null) {
            return "the environment variables " + ACCESS_KEY_ID + "/" + SECRET_ACCESS_KEY + " (access key "
                    + environment.get(ACCESS_KEY_ID) + ")";
        }
        if (nonEmpty(environment.get(PROFILE)) != null) {
            return "the profile " + environment.get(PROFILE) + " (" + PROFILE + ")";
        }
        return "the AWS SDK's default credentials chain";
    }

    private static String nonEmpty(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
