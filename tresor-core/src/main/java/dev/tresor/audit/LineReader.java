package dev.tresor.audit;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads a file line by line as raw bytes, keeping each line's byte offset (a writer repairing a
 * torn tail truncates at an exact offset) and whether it ended with a newline (a line without one
 * is a write that never completed). Memory stays bounded: a line longer than the limit is skipped
 * and reported as oversize, not buffered.
 */
final class LineReader implements Closeable {

    /**
     * @param number     1-based line number
     * @param offset     byte offset of the line's first byte
     * @param bytes      the line without its newline, valid up to {@code length}; empty when oversize
     * @param length     number of valid bytes in {@code bytes}
     * @param size       bytes the line occupies in the file, newline included
     * @param terminated whether the line ended with a newline
     * @param oversize   whether the line was longer than the limit (its bytes were dropped)
     */
    record Line(long number, long offset, byte[] bytes, int length, long size, boolean terminated, boolean oversize) {
        long end() {
            return offset + size;
        }
    }

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private long offset;
    private long lineNumber;
    private boolean eof;

    LineReader(InputStream in, int maxLineBytes) {
        this(in, maxLineBytes, 0, 0);
    }

    /**
     * Reads {@code in}, which starts at byte {@code offset} of the file, where line
     * {@code linesBefore + 1} begins: offsets and line numbers stay those of the whole file.
     */
    LineReader(InputStream in, int maxLineBytes, long offset, long linesBefore) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.offset = offset;
        this.lineNumber = linesBefore;
    }

    /** The next line, or null at the end of the file. */
    Line next() throws IOException {
        byte[] line = new byte[256];
        int length = 0;
        long size = 0;
        boolean oversize = false;
        long start = offset;
        while (true) {
            if (position == limit && !fill()) {
                if (size == 0) {
                    return null;
                }
                offset += size;
                return new Line(++lineNumber, start, oversize ? new byte[0] : line, oversize ? 0 : length, size, false, oversize);
            }
            int newline = -1;
            for (int i = position; i < limit; i++) {
                if (buffer[i] == '\n') {
                    newline = i;
                    break;
                }
            }
            int chunkEnd = newline >= 0 ? newline : limit;
            int chunk = chunkEnd - position;
            if (!oversize) {
                if (length + chunk > maxLineBytes) {
                    oversize = true;
                    line = new byte[0];
                    length = 0;
                } else {
                    if (length + chunk > line.length) {
                        line = Arrays.copyOf(line, Math.max(line.length * 2, length + chunk));
                    }
                    System.arraycopy(buffer, position, line, length, chunk);
                    length += chunk;
                }
            }
            size += chunk;
            position = chunkEnd;
            if (newline >= 0) {
                position++;
                size++;
                offset += size;
                return new Line(++lineNumber, start, line, length, size, true, oversize);
            }
        }
    }

    /** Whether nothing follows the line returned last. */
    boolean atEnd() throws IOException {
        return position == limit && !fill();
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        int n = in.read(buffer);
        if (n <= 0) {
            // read() never returns 0 for a non-empty buffer; treat it as the end all the same.
            eof = true;
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
