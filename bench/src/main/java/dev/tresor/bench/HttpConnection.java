package dev.tresor.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * One keep-alive HTTP/1.1 connection over an {@link SSLSocket}: writes a prepared request,
 * reads the status line, headers and a Content-Length or chunked body. Deliberately minimal (no
 * allocation per header beyond what parsing needs) so the load client costs little CPU.
 */
final class HttpConnection implements AutoCloseable {

    /** A response: status, body bytes (only kept when asked for), and whether the server will close. */
    record Response(int status, byte[] body, int bodyLength, boolean close) {}

    private final SSLSocket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] line = new byte[64 * 1024];

    private HttpConnection(SSLSocket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 32 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 32 * 1024);
    }

    static HttpConnection open(Endpoint e, int timeoutMillis) throws IOException {
        SSLSocket s = (SSLSocket) e.tls().createSocket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMillis);
            if (!e.protocols().isEmpty()) {
                s.setEnabledProtocols(e.protocols().toArray(String[]::new));
            }
            if (!e.cipherSuites().isEmpty()) {
                s.setEnabledCipherSuites(e.cipherSuites().toArray(String[]::new));
            }
            s.connect(new InetSocketAddress(e.host(), e.port()), timeoutMillis);
            s.startHandshake();
            return new HttpConnection(s);
        } catch (IOException | RuntimeException ex) {
            s.close();
            throw ex;
        }
    }

    SSLSession session() {
        return socket.getSession();
    }

    /** Builds the bytes of a request; {@code body} may be null. */
    static byte[] request(String method, String path, String accept, String contentType, byte[] body) {
        StringBuilder b = new StringBuilder(128).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
        if (accept != null) {
            b.append("Accept: ").append(accept).append("\r\n");
        }
        if (body != null) {
            b.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        b.append("\r\n");
        byte[] head = b.toString().getBytes(StandardCharsets.US_ASCII);
        if (body == null) {
            return head;
        }
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /** Sends a prepared request and reads the whole response; the body is kept only if {@code keepBody}. */
    Response exchange(byte[] request, boolean keepBody) throws IOException {
        out.write(request);
        out.flush();
        return read(keepBody);
    }

    private Response read(boolean keepBody) throws IOException {
        int n = readLine();
        if (n < 12 || line[0] != 'H' || line[8] != ' ') {
            throw new IOException("malformed status line: " + new String(line, 0, Math.min(n, 80), StandardCharsets.ISO_8859_1));
        }
        int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        long contentLength = -1;
        boolean chunked = false;
        boolean close = line[7] == '0'; // HTTP/1.0
        while ((n = readLine()) > 0) {
            if (startsWithIgnoreCase(n, "content-length:")) {
                contentLength = Long.parseLong(value(n, 15));
            } else if (startsWithIgnoreCase(n, "transfer-encoding:")) {
                chunked = value(n, 18).toLowerCase().contains("chunked");
            } else if (startsWithIgnoreCase(n, "connection:")) {
                String v = value(n, 11).toLowerCase();
                close = v.contains("close") || (close && !v.contains("keep-alive"));
            }
        }
        java.io.ByteArrayOutputStream body = keepBody ? new java.io.ByteArrayOutputStream() : null;
        long length = 0;
        if (chunked) {
            while (true) {
                int m = readLine();
                String size = new String(line, 0, m, StandardCharsets.ISO_8859_1);
                int semi = size.indexOf(';');
                long chunk = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
                if (chunk == 0) {
                    while (readLine() > 0) {
                        // trailers
                    }
                    break;
                }
                length += copy(chunk, body);
                readLine();
            }
        } else if (contentLength >= 0) {
            length = copy(contentLength, body);
        } else if (status != 204 && status != 304 && status >= 200) {
            // No length: the body runs to the end of the connection.
            length = copy(Long.MAX_VALUE, body);
            close = true;
        }
        return new Response(status, body == null ? null : body.toByteArray(), (int) Math.min(length, Integer.MAX_VALUE), close);
    }

    private long copy(long count, java.io.ByteArrayOutputStream sink) throws IOException {
        long done = 0;
        while (done < count) {
            int r = in.read(line, 0, (int) Math.min(line.length, count - done));
            if (r < 0) {
                if (count == Long.MAX_VALUE) {
                    return done;
                }
                throw new EOFException("connection closed inside a response body");
            }
            if (sink != null) {
                sink.write(line, 0, r);
            }
            done += r;
        }
        return done;
    }

    /** Reads one CRLF-terminated line into {@link #line} and returns its length without the CRLF. */
    private int readLine() throws IOException {
        int n = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed by the server");
            }
            if (c == '\n') {
                return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
            }
            if (n == line.length) {
                throw new IOException("response line longer than " + line.length + " bytes");
            }
            line[n++] = (byte) c;
        }
    }

    private boolean startsWithIgnoreCase(int n, String prefix) {
        if (n < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase(line[i]) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private String value(int n, int from) {
        return new String(line, from, n - from, StandardCharsets.ISO_8859_1).strip();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
