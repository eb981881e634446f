package dev.tresor.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * The complete lines of a file before a given offset, newest first, read in 64 KiB blocks from
 * the end: the newest records of a log cost what they are, not the log's size. Bytes after the
 * last newline (a line the writer is still writing) are left out. A line longer than
 * {@code maxLine} comes back empty or cut (callers skip lines that do not parse).
 */
final class ReverseLines {

    private static final int BLOCK = 64 * 1024;

    private final FileChannel channel;
    private final int maxLine;
    /** Unread bytes start before here. */
    private long pos;
    /** Bytes from {@link #pos} on not yet split into lines; always ends with a newline (or is empty). */
    private byte[] tail = new byte[0];
    private final Deque<byte[]> ready = new ArrayDeque<>();
    private boolean trimmed;

    /** @param end a line boundary (the file's size, or the offset where a line starts) */
    ReverseLines(FileChannel channel, long end, int maxLine) {
        this.channel = channel;
        this.pos = end;
        this.maxLine = maxLine;
    }

    /** The line before the last one returned (without its newline), or null at the start of the file. */
    byte[] previous() throws IOException {
        while (ready.isEmpty()) {
            if (pos == 0) {
                if (tail.length == 0) {
                    return null;
                }
                // The file's first line: nothing before it.
                byte[] first = Arrays.copyOf(tail, tail.length - 1);
                tail = new byte[0];
                return first;
            }
            int n = (int) Math.min(BLOCK, pos);
            pos -= n;
            byte[] data = new byte[n + tail.length];
            ByteBuffer into = ByteBuffer.wrap(data, 0, n);
            while (into.hasRemaining()) {
                if (channel.read(into, pos + into.position()) < 0) {
                    throw new IOException("the file shrank while it was read");
                }
            }
            System.arraycopy(tail, 0, data, n, tail.length);
            int end = data.length;
            if (!trimmed) {
                // Drop a line still being written (no newline yet) at the very end.
                while (end > 0 && data[end - 1] != '\n') {
                    end--;
                }
                if (end == 0 && pos > 0) {
                    tail = new byte[0]; // the whole block is one unfinished line; look on for its start
                    continue;
                }
                trimmed = end > 0;
            }
            int firstNewline = -1;
            for (int i = 0; i < end; i++) {
                if (data[i] == '\n') {
                    firstNewline = i;
                    break;
                }
            }
            if (firstNewline < 0) {
                // Memory stays bounded on a line no writer of ours makes: what is held of it is
                // dropped, and the rest of it, when found, does not parse as a record.
                tail = end > maxLine + 1 ? new byte[] {'\n'} : Arrays.copyOf(data, end);
                continue;
            }
            // Lines after the first newline are complete; the part up to it may start before `pos`.
            int start = firstNewline + 1;
            for (int i = start; i < end; i++) {
                if (data[i] == '\n') {
                    ready.addLast(line(data, start, i));
                    start = i + 1;
                }
            }
            tail = Arrays.copyOf(data, firstNewline + 1);
            if (tail.length > maxLine + 1 && pos > 0) {
                tail = new byte[] {'\n'}; // an oversize line: not a record; drop what is held of it
            }
        }
        return ready.removeLast();
    }

    private byte[] line(byte[] data, int from, int to) {
        return to - from > maxLine ? new byte[0] : Arrays.copyOfRange(data, from, to);
    }
}
