package dev.tresor.api;

/**
 * What a route produced: status, body and what the audit record should say about it. The body
 * is a {@link WipeableBuffer} so responses that carry values can be zeroed after sending.
 */
record ApiResponse(int status, String contentType, WipeableBuffer body, String secret, Integer version, String detail,
                   String action) {

    ApiResponse(int status, String contentType, WipeableBuffer body, String secret, Integer version, String detail) {
        this(status, contentType, body, secret, version, detail, null);
    }

    static ApiResponse json(int status, WipeableBuffer body) {
        return new ApiResponse(status, "application/json", body, null, null, null);
    }

    ApiResponse about(String secretName, Integer versionNumber) {
        return new ApiResponse(status, contentType, body, secretName, versionNumber, detail, action);
    }

    /** The same response, audited as {@code auditAction} (when a route's outcome names the operation) with {@code auditDetail}. */
    ApiResponse audited(String auditAction, String auditDetail) {
        return new ApiResponse(status, contentType, body, secret, version, auditDetail, auditAction);
    }
}
