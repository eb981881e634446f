package dev.tresor.model;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * A decrypted value on its way to the caller. Holders should call {@link #wipe()} once the bytes
 * have been written out, so the plaintext does not linger on the heap longer than needed.
 */
public record SecretValue(String name, int version, byte[] value, Instant createdAt, Instant expiresAt,
                          List<String> labels) {

    public void wipe() {
        Arrays.fill(value, (byte) 0);
    }

    @Override
    public String toString() {
        return "SecretValue[name=" + name + ", version=" + version + ", value=(" + value.length + " bytes)]";
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
