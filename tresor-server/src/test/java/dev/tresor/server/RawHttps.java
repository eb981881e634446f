package dev.tresor.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Raw bytes over one mutual-TLS socket, for abuse tests: whatever we send, we read back either a
 * status line (with its headers and Content-Length body) or the server closing the connection.
 * A read that takes longer than the timeout is reported as {@link Outcome#HUNG}: a liveness
 * check, not a speed assertion.
 */
final class RawHttps implements AutoCloseable {

    enum Kind { ANSWERED, CLOSED, HUNG }

    /** What came back for one request. {@code status} is -1 unless answered. */
    record Outcome(Kind kind, int status, String head) {
        static final Outcome HUNG = new Outcome(Kind.HUNG, -1, "");
        static final Outcome CLOSED = new Outcome(Kind.CLOSED, -1, "");

        boolean serverError() {
            return kind == Kind.ANSWERED && status >= 500;
        }
    }

    private final SSLSocket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttps(SSLContext context, int port, int timeoutMillis) throws IOException {
        socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        socket.startHandshake();
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** The certificate the server presented on this connection. */
    java.security.cert.X509Certificate serverCertificate() throws IOException {
        return (java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0];
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends and reads one answer; a failure to send (server already closed) counts as closed. */
    Outcome exchange(byte[] request) {
        try {
            send(request);
        } catch (IOException e) {
            return Outcome.CLOSED;
        }
        // The answer to HEAD carries a Content-Length but no body.
        return read(!new String(request, 0, Math.min(5, request.length), StandardCharsets.ISO_8859_1).equals("HEAD "));
    }

    Outcome read() {
        return read(true);
    }

    private Outcome read(boolean withBody) {
        try {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int c = in.read();
                if (c < 0) {
                    return head.size() == 0 ? Outcome.CLOSED : parse(head.toString(StandardCharsets.ISO_8859_1));
                }
                head.write(c);
                matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
                if (head.size() > 256 * 1024) {
                    throw new IOException("response head over 256 KiB");
                }
            }
            Outcome o = parse(head.toString(StandardCharsets.ISO_8859_1));
            long length = withBody && o.status() != 204 && o.status() != 304 ? contentLength(o.head()) : 0;
            for (long i = 0; i < length; i++) {
                if (in.read() < 0) {
                    break;
                }
            }
            return o;
        } catch (SocketTimeoutException e) {
            return Outcome.HUNG;
        } catch (IOException e) {
            return Outcome.CLOSED;
        }
    }

    private static Outcome parse(String head) {
        if (!head.startsWith("HTTP/1.") || head.length() < 12) {
            return new Outcome(Kind.ANSWERED, 999, head);
        }
        return new Outcome(Kind.ANSWERED, Integer.parseInt(head.substring(9, 12)), head);
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return Long.parseLong(line.substring(15).strip());
            }
        }
        return 0;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
