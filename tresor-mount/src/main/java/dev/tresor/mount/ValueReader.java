package dev.tresor.mount;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import dev.tresor.client.api.TresorHttp;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The value read of an open ({@code GET /v1/secrets/NAME?version=N}, raw bytes) over pooled
 * keep-alive HTTP/1.1 on plain {@link SSLSocket}s instead of {@code java.net.http}. Two reasons:
 * the JDK client spends about a millisecond of CPU per request (FACTS.md), which on a small machine
 * is most of a {@code cat}; and here every buffer that held the value is ours, so each is zeroed
 * once the response is read (the JDK client's internal buffers cannot be).
 *
 * <p>Each socket read is bounded by the request timeout and the whole exchange by a deadline of
 * the same length, so a server that stops answering gives an {@link ApiFailure} (EIO), never a
 * hung {@code cat}. A pooled connection the server has closed meanwhile is retried once on a fresh one.
 * Each node of the cluster has its own pool; {@link #read} fails over between them.
 */
final class ValueReader implements AutoCloseable {

    private static final int MAX_HEADER_LINE = 8192;
    /** Secrets are at most 1 MiB; a longer answer is not a value. */
    private static final int MAX_BODY = 2 * 1024 * 1024;

    private final SSLContext tls;
    private final List<Node> nodes;
    private final Duration timeout;
    private final TresorHttp.Backoff backoff;
    /** The node that answered last: the next read starts there (as {@link TresorHttp} does). */
    private final AtomicInteger preferred = new AtomicInteger();
    private volatile boolean closed;

    ValueReader(MountSettings settings) {
        this(settings, TresorHttp.Backoff.DOUBLING);
    }

    ValueReader(MountSettings settings, TresorHttp.Backoff backoff) {
        this.tls = settings.tls();
        this.nodes = settings.servers().nodes().stream().map(Node::new).toList();
        this.timeout = settings.requestTimeout();
        this.backoff = backoff;
    }

    /**
     * One audited read of a version's bytes; the caller owns (and zeroes) the array. With several
     * nodes it follows {@link TresorHttp}'s rules for a read: a node that cannot be reached, breaks
     * the exchange, times out or answers 503 is left for the next one (after the same pause), so a
     * dead node costs a {@code cat} one pause, or one timeout if it hangs. Any other answer is final.
     */
    byte[] read(String name, int version) throws ApiFailure {
        int start = preferred.get();
        for (int attempt = 0; ; attempt++) {
            int index = (start + attempt) % nodes.size();
            try {
                byte[] value = nodes.get(index).read(name, version);
                preferred.set(index);
                return value;
            } catch (ApiFailure e) {
                boolean nextNode = e.unreachable() || e.status() == 503;
                if (!nextNode || attempt + 1 == nodes.size() || closed) {
                    throw e;
                }
                try {
                    backoff.pause(attempt + 1);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** One server node: its address and its own pool of idle keep-alive connections. */
    private final class Node {
        private final URI base;
        private final String host;
        private final int port;
        private final String pathPrefix;
        private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

        Node(URI base) {
            this.base = base;
            // URI keeps an IPv6 literal in brackets; sockets and certificate checks want it bare.
            this.host = base.getHost().startsWith("[") ? base.getHost().substring(1, base.getHost().length() - 1) : base.getHost();
            this.port = base.getPort() < 0 ? 443 : base.getPort();
            this.pathPrefix = base.getRawPath() == null ? "" : base.getRawPath();
        }

        byte[] read(String name, int version) throws ApiFailure {
            String what = "GET /v1/secrets/" + name;
            byte[] request = ("GET " + pathPrefix + "/v1/secrets/" + name + "?version=" + version + " HTTP/1.1\r\nHost: "
                    + base.getRawAuthority() + "\r\nAccept: application/octet-stream\r\nUser-Agent: tresor-mount\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            long deadline = System.nanoTime() + timeout.toNanos();
            Connection pooled = idle.pollFirst();
            if (pooled != null) {
                try {
                    return finish(pooled, pooled.exchange(request, deadline), what, version);
                } catch (IOException e) {
                    pooled.close();
                    // Closed by the server while idle (nothing came back): one retry on a fresh
                    // connection. Anything else could mean the server did read it: not again on this node
                    // (a read is repeatable, so read() may still ask the next node, as TresorHttp would).
                    if (pooled.received() || e instanceof SocketTimeoutException) {
                        throw e instanceof SocketTimeoutException
                                ? new ApiFailure(0, what + ": no answer from " + base + " within " + timeout.toMillis() + " ms", e)
                                : new ApiFailure(0, what + ": connection to " + base + " broke (" + describe(e) + ")", e);
                    }
                }
            }
            Connection fresh;
            try {
                fresh = open(deadline);
            } catch (SocketTimeoutException e) {
                throw new ApiFailure(0, what + ": no answer from " + base + " within " + timeout.toMillis() + " ms", e);
            } catch (IOException e) {
                throw new ApiFailure(0, what + ": cannot reach " + base + " (" + describe(e) + ")", e);
            }
            try {
                return finish(fresh, fresh.exchange(request, deadline), what, version);
            } catch (SocketTimeoutException e) {
                fresh.close();
                throw new ApiFailure(0, what + ": no answer from " + base + " within " + timeout.toMillis() + " ms", e);
            } catch (IOException e) {
                fresh.close();
                throw new ApiFailure(0, what + ": cannot reach " + base + " (" + describe(e) + ")", e);
            }
        }

        private byte[] finish(Connection connection, Response response, String what, int version) throws ApiFailure {
            if (response.keepAlive() && !closed) {
                idle.offerFirst(connection);
            } else {
                connection.close();
            }
            if (response.status() != 200) {
                Arrays.fill(response.body(), (byte) 0);
                throw new ApiFailure(response.status(), what + "?version=" + version + " answered HTTP " + response.status());
            }
            return response.body();
        }

        private Connection open(long deadline) throws IOException {
            Socket plain = new Socket();
            try {
                plain.setTcpNoDelay(true);
                plain.connect(new InetSocketAddress(host, port), remainingMillis(deadline));
                SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
                SSLParameters parameters = socket.getSSLParameters();
                // What HttpClient does for https: check the server's certificate names this host, send SNI.
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                if (!host.isEmpty() && Character.isLetter(host.charAt(host.length() - 1))) {
                    parameters.setServerNames(List.of(new SNIHostName(host)));
                }
                socket.setSSLParameters(parameters);
                socket.setSoTimeout(remainingMillis(deadline));
                socket.startHandshake();
                return new Connection(socket);
            } catch (IOException | RuntimeException e) {
                plain.close();
                throw e;
            }
        }

        void close() {
            for (Connection connection; (connection = idle.pollFirst()) != null; ) {
                connection.close();
            }
        }
    }

    private static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        return (int) Math.min(left, Integer.MAX_VALUE);
    }

    private record Response(int status, byte[] body, boolean keepAlive) {}

    /** One keep-alive connection; reads byte by byte from the socket through its own buffer, which it zeroes after each answer. */
    private static final class Connection {
        private final SSLSocket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buffer = new byte[16 * 1024];
        private int position;
        private int limit;
        private boolean received;

        Connection(SSLSocket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        Response exchange(byte[] request, long deadline) throws IOException {
            received = false;
            socket.setSoTimeout(remainingMillis(deadline));
            out.write(request);
            out.flush();
            try {
                return response(deadline);
            } finally {
                // Leftover bytes would be the next answer's: none are expected (no pipelining), and
                // what was read held the value, so zero it.
                Arrays.fill(buffer, (byte) 0);
                position = 0;
                limit = 0;
            }
        }

        private Response response(long deadline) throws IOException {
            String status = line(deadline);
            if (!status.startsWith("HTTP/1.") || status.length() < 12) {
                throw new IOException("malformed status line");
            }
            int code = Integer.parseInt(status.substring(9, 12));
            boolean keepAlive = !status.startsWith("HTTP/1.0");
            long length = -1;
            boolean chunked = false;
            for (String header; !(header = line(deadline)).isEmpty(); ) {
                int colon = header.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = header.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT);
                String value = header.substring(colon + 1).strip().toLowerCase(java.util.Locale.ROOT);
                switch (key) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.contains("chunked");
                    case "connection" -> keepAlive = keepAlive ? !value.contains("close") : value.contains("keep-alive");
                    default -> { }
                }
            }
            if (chunked) {
                return new Response(code, chunkedBody(deadline), keepAlive);
            }
            if (length < 0) {
                throw new IOException("answer without Content-Length");
            }
            if (length > MAX_BODY) {
                throw new IOException("answer of " + length + " bytes is larger than any secret");
            }
            byte[] body = new byte[(int) length];
            fill(body, 0, body.length, deadline);
            return new Response(code, body, keepAlive);
        }

        private byte[] chunkedBody(long deadline) throws IOException {
            byte[] body = new byte[0];
            while (true) {
                String size = line(deadline);
                int semi = size.indexOf(';');
                int chunk = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                if (chunk == 0) {
                    while (!line(deadline).isEmpty()) {
                        // trailers
                    }
                    return body;
                }
                if (body.length + chunk > MAX_BODY) {
                    Arrays.fill(body, (byte) 0);
                    throw new IOException("chunked answer larger than any secret");
                }
                byte[] grown = Arrays.copyOf(body, body.length + chunk);
                Arrays.fill(body, (byte) 0);
                fill(grown, body.length, chunk, deadline);
                body = grown;
                line(deadline);
            }
        }

        private void fill(byte[] into, int offset, int count, long deadline) throws IOException {
            int done = 0;
            while (done < count) {
                if (position == limit) {
                    refill(deadline);
                }
                int n = Math.min(count - done, limit - position);
                System.arraycopy(buffer, position, into, offset + done, n);
                position += n;
                done += n;
            }
        }

        private String line(long deadline) throws IOException {
            StringBuilder text = new StringBuilder(64);
            while (true) {
                if (position == limit) {
                    refill(deadline);
                }
                byte b = buffer[position++];
                if (b == '\n') {
                    int end = text.length();
                    return end > 0 && text.charAt(end - 1) == '\r' ? text.substring(0, end - 1) : text.toString();
                }
                if (text.length() == MAX_HEADER_LINE) {
                    throw new IOException("header line too long");
                }
                text.append((char) (b & 0xff));
            }
        }

        private void refill(long deadline) throws IOException {
            socket.setSoTimeout(remainingMillis(deadline));
            int n = in.read(buffer, 0, buffer.length);
            if (n < 0) {
                throw new EOFException("connection closed by the server");
            }
            position = 0;
            limit = n;
            received = true;
        }

        /** Whether any byte of an answer arrived on this connection's last exchange. */
        boolean received() {
            return received;
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        closed = true;
        nodes.forEach(Node::close);
    }
}
