package dev.tresor.cli;

/**
 * What {@code tresor} exits with. Scripts branch on these, so they are part of the interface:
 * never renumber one, only add.
 */
public final class ExitCodes {

    /** Done. */
    public static final int OK = 0;
    /** Failed for a reason not covered below (e.g. a conflict, a broken audit log, a server error). */
    public static final int ERROR = 1;
    /** The command line or its settings are wrong: bad option, missing TRESOR_* setting, unreadable file, invalid request. */
    public static final int USAGE = 2;
    /** The thing asked for does not exist (HTTP 404) or no longer does (HTTP 410, e.g. expired). */
    public static final int NOT_FOUND = 3;
    /** The server refused this identity (HTTP 401/403, or our client certificate in the TLS handshake). */
    public static final int DENIED = 4;
    /** The server cannot be reached or trusted, or is not serving (connection refused, TLS failure, HTTP 503). */
    public static final int UNAVAILABLE = 5;

    /** The help footer lists the codes from here, so documentation and behaviour cannot drift apart. */
    static final java.util.List<String> HELP_LINES = java.util.List.of(
            "  0  ok",
            "  1  error: conflict, server error, broken audit log, ...",
            "  2  usage: bad options, missing TRESOR_* setting, unreadable file,",
            "     or a request the server calls invalid (HTTP 400)",
            "  3  not found (HTTP 404/410; 410: expired)",
            "  4  denied (HTTP 401/403, or our client certificate was refused)",
            "  5  unavailable: connection refused, TLS trust failure, timeout, 503");

    private ExitCodes() {}

    /**
     * The exit code for an HTTP error status. 400/413/415 mean the request as given is invalid,
     * which the user fixes on the command line, so they count as usage errors.
     */
    public static int forHttpStatus(int status) {
        return switch (status) {
            case 400, 413, 415, 422 -> USAGE;
            case 401, 403 -> DENIED;
            case 404, 410 -> NOT_FOUND;
            case 502, 503, 504 -> UNAVAILABLE;
            default -> status >= 200 && status < 300 ? OK : ERROR;
        };
    }
}
