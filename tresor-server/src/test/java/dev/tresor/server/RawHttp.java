package dev.tresor.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * HTTP/1.1 written by hand on one connection: lets tests send what {@code java.net.http} refuses
 * to send (NUL or backslash in a path, raw {@code %2e%2e}, odd methods, wrong content lengths).
 * The request always carries {@code Connection: close}; the reply is read to end of stream.
 */
public final class RawHttp {

    private RawHttp() {}

    /** A parsed reply; header names lower-cased. */
    public record Reply(int status, Map<String, String> headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    public static Reply send(SSLContext ctx, String host, int port, String method, String target,
                             Map<String, String> headers, byte[] body) {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(host, port), 5_000);
            try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket(plain, host, port, true)) {
                socket.setSoTimeout(30_000);
                socket.startHandshake();
                return exchange(socket, host, port, method, target, headers, body);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Plain-text variant for the management port. */
    public static Reply sendPlain(String host, int port, String method, String target, Map<String, String> headers,
                                  byte[] body) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5_000);
            socket.setSoTimeout(30_000);
            return exchange(socket, host, port, method, target, headers, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Reply exchange(Socket socket, String host, int port, String method, String target,
                                  Map<String, String> headers, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(host).append(':').append(port).append("\r\n");
        head.append("Connection: close\r\n");
        boolean hasLength = false;
        if (headers != null) {
            for (Map.Entry<String, String> h : headers.entrySet()) {
                head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
                hasLength |= h.getKey().equalsIgnoreCase("Content-Length") || h.getKey().equalsIgnoreCase("Transfer-Encoding");
            }
        }
        if (body != null && !hasLength) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        OutputStream out = socket.getOutputStream();
        // ISO-8859-1 keeps every char of the target as one byte (NUL, backslash, raw bytes).
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        // Head and body in one write: a server that refuses the request line (400) or the size
        // (413) answers and closes at once, and a second write would then meet a closed socket.
        byte[] request = body == null ? headBytes : concat(headBytes, body);
        try {
            out.write(request);
            out.flush();
        } catch (IOException e) {
            // The server answered and closed before taking everything (a large body); read its answer.
        }
        return parse(readAll(socket.getInputStream()));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                all.write(buffer, 0, n);
            }
        } catch (IOException e) {
            if (all.size() == 0) {
                throw e;
            }
            // A reset after the reply (server closed with unread request bytes) loses nothing we need.
        }
        return all.toByteArray();
    }

    static Reply parse(byte[] raw) {
        int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        if (end < 0) {
            throw new IllegalStateException("no complete HTTP reply: " + new String(raw, StandardCharsets.ISO_8859_1));
        }
        String[] lines = new String(raw, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        String[] status = lines[0].split(" ", 3);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        byte[] rest = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
        byte[] body = "chunked".equalsIgnoreCase(headers.get("transfer-encoding")) ? dechunk(rest) : rest;
        if (headers.containsKey("content-length")) {
            int length = Integer.parseInt(headers.get("content-length"));
            body = java.util.Arrays.copyOf(body, Math.min(length, body.length));
        }
        return new Reply(Integer.parseInt(status[1]), headers, body);
    }

    private static byte[] dechunk(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pos = 0;
        while (pos < in.length) {
            int lineEnd = indexOf(java.util.Arrays.copyOfRange(in, pos, in.length), "\r\n".getBytes(StandardCharsets.ISO_8859_1));
            if (lineEnd < 0) {
                break;
            }
            String sizeText = new String(in, pos, lineEnd, StandardCharsets.ISO_8859_1).split(";")[0].trim();
            int size = Integer.parseInt(sizeText, 16);
            pos += lineEnd + 2;
            if (size == 0) {
                break;
            }
            out.write(in, pos, Math.min(size, in.length - pos));
            pos += size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
