package dev.tresor.client;

import java.io.IOException;

/**
 * The server refused or could not answer an issuance request. {@link #status()} is the HTTP
 * status (0 when the server was not reached); the message is the server's error text.
 */
public final class IssuanceException extends IOException {

    private final int status;

    public IssuanceException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** A refusal that retrying will not fix (4xx other than 408/429): a revoked or unknown identity, a used token. */
    public boolean permanent() {
        return status >= 400 && status < 500 && status != 408 && status != 429;
    }
}
