package dev.tresor.crypto.awskms;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Says what a failed KMS call means and what fixes it: the credentials were refused, the IAM
 * policy lacks a permission, KMS throttled us, the key does not exist, or KMS cannot be reached.
 * The AWS error code and message are kept (they name no secret); credentials never appear.
 */
final class KmsFailure {

    /** What went wrong, in the kinds an operator acts on differently. */
    enum Kind { CREDENTIALS, ACCESS_DENIED, THROTTLED, NO_SUCH_KEY, WRONG_KEY, UNREACHABLE, OTHER }

    private KmsFailure() {}

    static Kind kind(SdkException e) {
        if (e instanceof AwsServiceException service) {
            if (service.isThrottlingException()) {
                return Kind.THROTTLED;
            }
            String code = service.awsErrorDetails() == null ? "" : String.valueOf(service.awsErrorDetails().errorCode());
            return switch (code) {
                case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                     "MissingAuthenticationTokenException", "InvalidClientTokenId" -> Kind.CREDENTIALS;
                case "AccessDeniedException" -> Kind.ACCESS_DENIED;
                case "ThrottlingException", "LimitExceededException" -> Kind.THROTTLED;
                case "NotFoundException", "DisabledException", "KMSInvalidStateException" -> Kind.NO_SUCH_KEY;
                case "InvalidCiphertextException", "IncorrectKeyException" -> Kind.WRONG_KEY;
                default -> service.statusCode() >= 500 ? Kind.UNREACHABLE : Kind.OTHER;
            };
        }
        if (e instanceof SdkClientException && String.valueOf(e.getMessage()).contains("credentials")) {
            return Kind.CREDENTIALS;
        }
        return Kind.UNREACHABLE;
    }

    /** A sentence naming what failed and the fix, for a refused start. */
    static String explain(SdkException e, AwsKmsKeyProvider.Settings settings, String credentialSource) {
        String key = "the KMS key " + settings.keyId();
        String aws = awsSays(e);
        return switch (kind(e)) {
            case CREDENTIALS -> e instanceof AwsServiceException
                    ? "AWS KMS (" + settings.where() + ") refused the credentials from " + credentialSource + ": " + aws
                            + "; fix them there (AWS credentials never go in the config)"
                    : "found no usable AWS credentials in " + credentialSource + ": " + aws + "; set AWS_ACCESS_KEY_ID and "
                            + "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the server's environment, or give it a role";
            case ACCESS_DENIED -> "AWS KMS (" + settings.where() + ") denied access to " + key + ": " + aws
                    + "; grant the server's IAM identity kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt on the key "
                    + "(key policy or IAM policy)";
            case THROTTLED -> "AWS KMS (" + settings.where() + ") throttled the requests for " + key + " (after retries): "
                    + aws + "; try again later, or raise the account's KMS request quota";
            case NO_SUCH_KEY -> "AWS KMS (" + settings.where() + ") has no usable key " + settings.keyId() + ": " + aws
                    + "; fix keyProvider.keyId (a key ARN, key id or alias/NAME) or keyProvider.region, or enable the key";
            case WRONG_KEY -> "AWS KMS (" + settings.where() + ") could not decrypt under " + key + ": " + aws;
            case UNREACHABLE -> "AWS KMS (" + settings.where() + ") is not reachable: " + aws
                    + "; check the network path to it, or keyProvider.endpoint";
            case OTHER -> "AWS KMS (" + settings.where() + ") refused the request for " + key + ": " + aws;
        };
    }

    private static String awsSays(SdkException e) {
        if (e instanceof AwsServiceException service && service.awsErrorDetails() != null) {
            String message = service.awsErrorDetails().errorMessage();
            return service.awsErrorDetails().errorCode() + (message == null ? "" : " (" + message + ")");
        }
        StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            out.append(": ").append(t.getClass().getSimpleName()).append(' ').append(t.getMessage());
        }
        return out.toString();
    }
}
