package dev.tresor.testkit.kms;

/** An error as AWS KMS answers it: an HTTP status and a JSON body {@code {"__type": ..., "message": ...}}. */
record KmsError(int status, String type, String message) {

    static KmsError badSignature() {
        return new KmsError(400, "InvalidSignatureException", "The request signature we calculated does not match the "
                + "signature you provided. Check your AWS Secret Access Key and signing method. Consult the service "
                + "documentation for details.");
    }

    static KmsError notFound(String what) {
        return new KmsError(400, "NotFoundException", what + " is not found.");
    }

    static KmsError invalidCiphertext() {
        // AWS gives no reason (a wrong encryption context and a changed byte look alike).
        return new KmsError(400, "InvalidCiphertextException", null);
    }
}
