package dev.tresor.rotation;

import java.security.SecureRandom;

/**
 * Fresh database passwords: 32 characters of [A-Za-z0-9] (about 190 bits). No quotes, backslashes
 * or '$', so they survive any template (PHP, shell, YAML, JSON) without escaping.
 */
public final class Passwords {

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    public static final int LENGTH = 32;

    private final SecureRandom random;

    public Passwords(SecureRandom random) {
        this.random = random;
    }

    public String next() {
        char[] out = new char[LENGTH];
        for (int i = 0; i < out.length; i++) {
            out[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        }
        return new String(out);
    }
}
