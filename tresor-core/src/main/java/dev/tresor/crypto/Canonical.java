package dev.tresor.crypto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;

/**
 * An unambiguous byte encoding of a tuple of fields, used as MAC input and AEAD associated data.
 * Every field is tagged and length-prefixed, so no two different tuples encode alike (no
 * "ab"+"c" = "a"+"bc" confusion). The first field is always a domain label such as
 * "tresor/row/clients/v1", so a MAC for one kind of row is never valid for another.
 */
public final class Canonical {

    private static final byte NULL = 0;
    private static final byte STRING = 1;
    private static final byte LONG = 2;
    private static final byte BYTES = 3;
    private static final byte BOOL = 4;
    private static final byte LIST = 5;
    private static final byte MAP = 6;

    private final Buffer out = new Buffer();

    private Canonical(String domain) {
        string(domain);
    }

    public static Canonical of(String domain) {
        return new Canonical(domain);
    }

    public Canonical string(String value) {
        if (value == null) {
            out.write(NULL);
            return this;
        }
        out.tagged(STRING, value.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public Canonical number(Long value) {
        if (value == null) {
            out.write(NULL);
            return this;
        }
        return number(value.longValue());
    }

    public Canonical number(long value) {
        out.number(LONG, value);
        return this;
    }

    public Canonical bool(boolean value) {
        out.write(BOOL);
        out.write(value ? 1 : 0);
        return this;
    }

    public Canonical bytes(byte[] value) {
        if (value == null) {
            out.write(NULL);
            return this;
        }
        out.tagged(BYTES, value);
        return this;
    }

    /** A list of strings, in the given order (callers sort sets before passing them). */
    public Canonical strings(Collection<String> values) {
        out.write(LIST);
        length(values.size());
        values.forEach(this::string);
        return this;
    }

    /** A map of strings, in the map's iteration order (callers pass sorted maps). */
    public Canonical stringMap(Map<String, String> values) {
        out.write(MAP);
        length(values.size());
        values.forEach((k, v) -> {
            string(k);
            string(v);
        });
        return this;
    }

    public byte[] toBytes() {
        return out.toByteArray();
    }

    /**
     * A growable byte array; unlike ByteArrayOutputStream it takes no lock per byte, and it makes
     * room once per field rather than per byte (this is on every request's path).
     */
    private static final class Buffer {
        private byte[] bytes = new byte[512];
        private int size;

        void write(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        void writeInt(int n) {
            ensure(4);
            bytes[size++] = (byte) (n >>> 24);
            bytes[size++] = (byte) (n >>> 16);
            bytes[size++] = (byte) (n >>> 8);
            bytes[size++] = (byte) n;
        }

        /** tag, 4-byte big-endian length, then the bytes. */
        void tagged(byte tag, byte[] b) {
            ensure(5 + b.length);
            bytes[size++] = tag;
            bytes[size++] = (byte) (b.length >>> 24);
            bytes[size++] = (byte) (b.length >>> 16);
            bytes[size++] = (byte) (b.length >>> 8);
            bytes[size++] = (byte) b.length;
            System.arraycopy(b, 0, bytes, size, b.length);
            size += b.length;
        }

        /** tag, then the 8-byte big-endian value. */
        void number(byte tag, long value) {
            ensure(9);
            bytes[size++] = tag;
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (value >>> shift);
            }
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, size);
        }
    }

    private void length(int n) {
        out.writeInt(n);
    }
}
