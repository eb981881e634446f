package dev.tresor.model;

import java.util.Locale;

/** A client's role in a group: {@code read} its secrets, or also {@code write} new versions and move labels. */
public enum Role {
    READ,
    WRITE;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String text) {
        if (text == null || text.isBlank()) {
            return READ;
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "read" -> READ;
            case "write" -> WRITE;
            default -> throw TresorException.badRequest("role must be 'read' or 'write', not '" + Names.printable(text) + "'");
        };
    }
}
