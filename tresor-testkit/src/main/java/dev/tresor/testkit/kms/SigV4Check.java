package dev.tresor.testkit.kms;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks an AWS Signature Version 4 the way AWS does: recomputes the signature from the request
 * (canonical request, string to sign, the derived signing key, all with the JDK's HmacSHA256)
 * under the secret key the server knows for the access key named in the request, and compares in
 * constant time. A request signed with another secret key, for another region or service, or
 * with a header changed after signing, is refused.
 */
final class SigV4Check {

    private static final Pattern AUTHORIZATION = Pattern.compile(
            "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})");

    /** The access key's secret, per access key id; the region and service this server stands for. */
    private final Map<String, String> secrets;
    private final String region;

    SigV4Check(Map<String, String> secrets, String region) {
        this.secrets = Map.copyOf(secrets);
        this.region = region;
    }

    /**
     * Null if the request is signed right, else the AWS error to answer. {@code headers}: lower-case
     * names to their values (several values of one header joined by commas, as SigV4 says).
     */
    KmsError check(String method, String path, Map<String, String> headers, byte[] body) {
        String authorization = headers.get("authorization");
        Matcher m = authorization == null ? null : AUTHORIZATION.matcher(authorization);
        if (m == null || !m.matches()) {
            return new KmsError(400, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
        }
        String accessKey = m.group(1);
        String date = m.group(2);
        String secret = secrets.get(accessKey);
        if (secret == null) {
            return new KmsError(400, "UnrecognizedClientException", "The security token included in the request is invalid.");
        }
        String amzDate = headers.get("x-amz-date");
        if (amzDate == null || !amzDate.startsWith(date) || !region.equals(m.group(3)) || !"kms".equals(m.group(4))) {
            return KmsError.badSignature();
        }
        List<String> signed = List.of(m.group(5).split(";"));
        if (!signed.contains("host") || !signed.contains("x-amz-date")) {
            return KmsError.badSignature();
        }
        StringBuilder canonical = new StringBuilder(method).append('\n').append(path.isEmpty() ? "/" : path).append("\n\n");
        for (String name : signed) {
            String value = headers.get(name);
            if (value == null) {
                return KmsError.badSignature();
            }
            canonical.append(name).append(':').append(value.strip().replaceAll(" +", " ")).append('\n');
        }
        canonical.append('\n').append(m.group(5)).append('\n').append(hex(sha256(body)));
        String scope = date + "/" + region + "/kms/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
                + hex(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
        for (String part : new String[] {region, "kms", "aws4_request"}) {
            key = hmac(key, part);
        }
        byte[] expected = hex(hmac(key, toSign)).getBytes(StandardCharsets.US_ASCII);
        byte[] given = m.group(6).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, given) ? null : KmsError.badSignature();
    }

    /** The headers' names in lower case, several values of one header joined by commas. */
    static Map<String, String> lowerCase(Map<String, List<String>> headers) {
        Map<String, String> out = new java.util.HashMap<>();
        headers.forEach((name, values) -> out.put(name.toLowerCase(java.util.Locale.ROOT),
                String.join(",", new ArrayList<>(values))));
        return out;
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
