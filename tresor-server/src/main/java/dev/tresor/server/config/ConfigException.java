package dev.tresor.server.config;

/** A configuration error; the message names the field and says what to write instead. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
