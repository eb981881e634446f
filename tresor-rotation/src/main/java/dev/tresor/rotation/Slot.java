package dev.tresor.rotation;

import java.util.Locale;

/** One of the two database users of an application. At any time one is active, the other standby. */
public enum Slot {
    A,
    B;

    public Slot other() {
        return this == A ? B : A;
    }

    public static Slot parse(String field, String text) {
        if (text != null) {
            switch (text.trim().toUpperCase(Locale.ROOT)) {
                case "A" -> { return A; }
                case "B" -> { return B; }
                default -> { }
            }
        }
        throw new RotationException(RotationException.Kind.STATE, field + " must be \"A\" or \"B\", not "
                + (text == null ? "missing" : "\"" + text + "\""));
    }
}
