package dev.tresor.ui;

/** A request the console cannot act on (missing field, malformed number); answered with a 4xx page, never a stack trace. */
final class BadInput extends RuntimeException {

    private final int status;

    BadInput(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static BadInput badRequest(String message) {
        return new BadInput(400, message);
    }

    int status() {
        return status;
    }
}
