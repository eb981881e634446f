package dev.tresor.tunnel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Just enough of the Redis protocol to hold a connection open in a test (inline commands, line replies). */
final class Resp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Resp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    void send(String inlineCommand) throws IOException {
        out.write((inlineCommand + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** One CRLF-terminated line, or null at end of stream. */
    String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, Math.max(0, bytes.length - 1), StandardCharsets.UTF_8);
            }
            line.write(c);
        }
        return null;
    }

    /** Reads lines until one equals {@code expected}; fails at end of stream. */
    void expect(String expected) throws IOException {
        String line;
        while ((line = line()) != null) {
            if (line.equals(expected)) {
                return;
            }
        }
        throw new IOException("connection closed before '" + expected + "'");
    }

    /** True if the connection is closed or reset (what an app sees when its tunnel dies). */
    boolean closedByPeer() {
        try {
            // Skip what is still unread (e.g. the rest of a SUBSCRIBE reply) until end of stream.
            while (in.read() >= 0) {
                continue;
            }
            return true;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
