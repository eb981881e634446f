package dev.tresor.api;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A growable byte buffer whose every copy can be zeroed: response bodies that carry a secret
 * value are built here and wiped once Jetty has written them, instead of lingering in garbage.
 */
final class WipeableBuffer extends OutputStream {

    private byte[] bytes;
    private int size;

    WipeableBuffer(int initialCapacity) {
        bytes = new byte[Math.max(64, initialCapacity)];
    }

    @Override
    public void write(int b) {
        ensure(1);
        bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, bytes, size, len);
        size += len;
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) {
            byte[] bigger = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
            Arrays.fill(bytes, (byte) 0);
            bytes = bigger;
        }
    }

    ByteBuffer asByteBuffer() {
        return ByteBuffer.wrap(bytes, 0, size);
    }

    int size() {
        return size;
    }

    void wipe() {
        Arrays.fill(bytes, (byte) 0);
        size = 0;
    }
}
