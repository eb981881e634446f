package dev.tresor.client.api;

/**
 * The server refused a request: its HTTP status, its message (which names what to fix) and the
 * request id to look up in its log and audit chain.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String requestId;

    public ApiException(int status, String message, String requestId) {
        super(message);
        this.status = status;
        this.requestId = requestId;
    }

    public int status() {
        return status;
    }

    /** May be null (an answer from something that is not Tresor, e.g. a proxy). */
    public String requestId() {
        return requestId;
    }

    /** The message with the request id, as a user should see it. */
    public String describe() {
        return getMessage() + (requestId == null ? "" : " (request id " + requestId + ")");
    }
}
