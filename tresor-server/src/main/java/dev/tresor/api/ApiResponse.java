package dev.tresor.api;

/**
 * What a route produced: status, body and what the audit record should say about it. The body
 * is a {@link WipeableBuffer} so responses that carry values can be zeroed after sending.
 */
record ApiResponse(int status, String contentType, WipeableBuffer body, String secret, Integer version, String detail) {

    static ApiResponse json(int status, WipeableBuffer body) {
        return new ApiResponse(status, "application/json", body, null, null, null);
    }

    ApiResponse about(String secretName, Integer versionNumber) {
        return new ApiResponse(status, contentType, body, secretName, versionNumber, detail);
    }
}
