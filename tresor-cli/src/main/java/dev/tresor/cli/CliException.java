package dev.tresor.cli;

/**
 * A failure to report to the user as one line on stderr (never a stack trace), with the exit
 * code a script can branch on. Messages say what to fix.
 */
public final class CliException extends RuntimeException {

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    static CliException usage(String message) {
        return new CliException(ExitCodes.USAGE, message);
    }

    static CliException error(String message) {
        return new CliException(ExitCodes.ERROR, message);
    }
}
