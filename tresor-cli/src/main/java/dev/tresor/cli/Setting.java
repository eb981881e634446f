package dev.tresor.cli;

/**
 * One connection setting and where it came from ({@code --ca}, {@code TRESOR_CA}, or
 * {@code ca in PROFILE}), so an error can point at the thing the user has to change.
 */
record Setting<T>(T value, String source) {

    /** For messages: {@code TRESOR_CA (/path/ca.crt)}. */
    String describe() {
        return source + " (" + value + ")";
    }
}
