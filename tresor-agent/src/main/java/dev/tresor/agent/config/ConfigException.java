package dev.tresor.agent.config;

/** A config error with the line it is on (0 when unknown); the message names the field. */
public final class ConfigException extends IllegalArgumentException {

    private final int line;

    public ConfigException(int line, String message) {
        super(line > 0 ? "line " + line + ": " + message : message);
        this.line = line;
    }

    public int line() {
        return line;
    }
}
