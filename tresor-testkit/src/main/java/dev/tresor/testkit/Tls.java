package dev.tresor.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * TLS client helpers for tests: an mTLS {@link HttpClient}, a handshake that reports its outcome
 * instead of throwing, and a raw ClientHello probe for protocol versions the JDK will not speak.
 *
 * <h2>Testing that TLSv1.1 (or older) is refused</h2>
 *
 * The JDK disables TLSv1 and TLSv1.1 by default through the security property
 * {@code jdk.tls.disabledAlgorithms}. That has two consequences for a test that wants to prove a
 * server refuses TLSv1.1:
 * <ul>
 *   <li>{@code connect(host, port, ctx, "TLSv1.1")} (with an {@code SSLContext} from
 *       {@code SSLContext.getInstance("TLSv1.1")} or {@code "TLS"}, it does not matter) fails on
 *       the <em>client</em> side: the JDK never sends a ClientHello, reporting "No appropriate
 *       protocol". The returned {@link Handshake} says {@code succeeded() == false}, but that only
 *       proves the test JVM's policy, not the server's.</li>
 *   <li>Re-enabling TLSv1.1 in the test JVM ({@code Security.setProperty} before JSSE is first
 *       used, or {@code -Djava.security.properties=}) would weaken the server under test too when
 *       it runs in the same JVM, and is order-dependent, so this kit does not do it.</li>
 * </ul>
 * To prove the refusal is the <em>server's</em> decision, use
 * {@link #sendRawClientHello(String, int, String)}: it writes a hand-built TLSv1.1 ClientHello on
 * a plain socket and reports whether the server answered with a ServerHello or an alert. Offering
 * "TLSv1.2" through the same probe is the positive control showing the probe itself works.
 */
public final class Tls {

    /** How long {@link #connect} waits, after a TLSv1.3 handshake, for a deferred rejection. */
    public static final Duration DEFAULT_VERDICT_WAIT = Duration.ofMillis(500);

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tls() {
    }

    /**
     * An HTTP/1.1 client presenting the key material and trusting the anchors of {@code ctx}
     * (see {@link IssuedCert#sslContext}), with a 5 s connect timeout. The JDK client checks the
     * server's certificate against the host name of the URI, so use a host the server certificate
     * names ("localhost" or "127.0.0.1" for {@code pki.server("localhost", "127.0.0.1")}).
     * Close it when done: it keeps pooled connections and a selector thread.
     */
    public static HttpClient mtlsHttpClient(SSLContext ctx) {
        return HttpClient.newBuilder()
                .sslContext(Objects.requireNonNull(ctx, "ctx"))
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
    }

    /**
     * Outcome of {@link #connect}. When the handshake succeeded, {@code socket} is open and ready
     * for application data and the caller closes it (this record is {@link AutoCloseable}); when
     * it failed, {@code socket}, {@code protocol} and {@code cipherSuite} are null and
     * {@code failure} says why.
     */
    public record Handshake(SSLSocket socket, String protocol, String cipherSuite, IOException failure)
            implements AutoCloseable {

        static Handshake failed(IOException failure) {
            return new Handshake(null, null, null, failure);
        }

        public boolean succeeded() {
            return failure == null;
        }

        @Override
        public void close() throws IOException {
            if (socket != null) {
                socket.close();
            }
        }
    }

    /** {@link #connect(String, int, SSLContext, Duration, String...)} with {@link #DEFAULT_VERDICT_WAIT}. */
    public static Handshake connect(String host, int port, SSLContext ctx, String... protocols) throws IOException {
        return connect(host, port, ctx, DEFAULT_VERDICT_WAIT, protocols);
    }

    /**
     * Opens a TLS connection offering only {@code protocols} (for example "TLSv1.3", "TLSv1.2";
     * none means the context's defaults) and reports how the handshake went instead of throwing
     * for an expected refusal. The server's certificate is checked against {@code host} as HTTPS
     * would, so the test exercises the same checks a real client makes.
     *
     * <p>Why {@code verdictWait}: in TLSv1.3 the client finishes its side of the handshake
     * before the server has looked at the client certificate, so a server rejecting the client
     * certificate only becomes visible as an alert on the client's next read. After a TLSv1.3
     * handshake this method therefore reads for up to {@code verdictWait}: an alert or reset means
     * refused, silence or an orderly close means accepted. This suits servers that wait for the
     * client to speak first (HTTP); if the server speaks first, its first byte is consumed by the
     * probe. {@link Duration#ZERO} skips the wait. TLSv1.2 needs no wait: there the server's
     * verdict arrives before the handshake completes.
     *
     * @throws IOException if the TCP connection itself cannot be made (nothing is listening);
     *                     that is not a TLS outcome and almost always a broken test
     */
    public static Handshake connect(String host, int port, SSLContext ctx, Duration verdictWait, String... protocols)
            throws IOException {
        SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket();
        try {
            socket.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        try {
            SSLParameters parameters = socket.getSSLParameters();
            if (protocols.length > 0) {
                parameters.setProtocols(protocols);
            }
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            socket.startHandshake();
            String protocol = socket.getSession().getProtocol();
            if ("TLSv1.3".equals(protocol) && verdictWait.isPositive()) {
                awaitServerVerdict(socket, verdictWait);
            }
            socket.setSoTimeout(0);
            return new Handshake(socket, protocol, socket.getSession().getCipherSuite(), null);
        } catch (IOException e) {
            socket.close();
            return Handshake.failed(e);
        }
    }

    /** Throws if the server sends an alert or resets the connection within {@code wait}. */
    private static void awaitServerVerdict(SSLSocket socket, Duration wait) throws IOException {
        socket.setSoTimeout((int) Math.max(1, wait.toMillis()));
        try {
            // Returns -1 on an orderly close_notify (accepted, then closed) and a byte if the
            // server speaks first (accepted); a fatal alert surfaces as an SSLException.
            socket.getInputStream().read();
        } catch (SocketTimeoutException silence) {
            // No alert within the wait: the server accepted us. JSSE keeps the socket usable
            // after a read timeout.
        }
    }

    /**
     * The server's answer to {@link #sendRawClientHello}.
     *
     * @param outcome     what came back
     * @param protocol    for {@link Outcome#SERVER_HELLO}, the version the server chose
     *                    ("TLSv1.1", "TLSv1.2", …); otherwise null
     * @param alert       for {@link Outcome#ALERT}, the TLS alert description code (70 =
     *                    protocol_version, 40 = handshake_failure); otherwise -1
     */
    public record ClientHelloAnswer(Outcome outcome, String protocol, int alert) {

        public enum Outcome {
            /** The server agreed to a protocol version and continued the handshake. */
            SERVER_HELLO,
            /** The server sent a TLS alert (normally fatal) instead of a ServerHello. */
            ALERT,
            /** The server closed or reset the connection without answering. */
            CLOSED
        }

        public boolean accepted() {
            return outcome == Outcome.SERVER_HELLO;
        }
    }

    /**
     * Sends a hand-built ClientHello offering exactly {@code protocol} ("TLSv1", "TLSv1.1" or
     * "TLSv1.2") over a plain TCP socket and reads only the server's first record. Nothing here
     * goes through JSSE, so the test JVM's {@code jdk.tls.disabledAlgorithms} does not interfere:
     * the answer is the server's own policy. The hello offers ECDHE-ECDSA and ECDHE-RSA suites
     * (CBC ones valid in every offered version, GCM for TLSv1.2) on P-256, so a server with a
     * P-256 ECDSA or an RSA certificate can accept it if its policy allows the version.
     */
    public static ClientHelloAnswer sendRawClientHello(String host, int port, String protocol) throws IOException {
        int minor = switch (protocol) {
            case "TLSv1" -> 1;
            case "TLSv1.1" -> 2;
            case "TLSv1.2" -> 3;
            default -> throw new IllegalArgumentException(
                    "raw ClientHello supports TLSv1, TLSv1.1, TLSv1.2, not " + protocol
                            + " (TLSv1.3 needs a key share: use connect(...) instead)");
        };
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            OutputStream out = socket.getOutputStream();
            out.write(clientHelloRecord(minor));
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int contentType;
            byte[] body;
            try {
                contentType = in.readUnsignedByte();
                in.readUnsignedShort(); // record version, not meaningful for the answer
                body = in.readNBytes(in.readUnsignedShort());
            } catch (EOFException | SocketException closedOrReset) {
                return new ClientHelloAnswer(ClientHelloAnswer.Outcome.CLOSED, null, -1);
            }
            return switch (contentType) {
                case 21 -> new ClientHelloAnswer(ClientHelloAnswer.Outcome.ALERT, null,
                        body.length >= 2 ? body[1] & 0xff : -1);
                // Handshake record: type(1) length(3) server_version(2). Type 2 is ServerHello.
                case 22 -> {
                    if (body.length < 6 || body[0] != 2 || body[4] != 3) {
                        throw new IOException("unexpected handshake message from server (type " + body[0] + ")");
                    }
                    yield new ClientHelloAnswer(ClientHelloAnswer.Outcome.SERVER_HELLO, protocolName(body[5]), -1);
                }
                default -> throw new IOException("server answered a ClientHello with TLS record type " + contentType);
            };
        }
    }

    private static String protocolName(int minor) {
        return switch (minor) {
            case 1 -> "TLSv1";
            case 2 -> "TLSv1.1";
            case 3 -> "TLSv1.2";
            default -> "SSL/TLS 3." + minor;
        };
    }

    /** A TLS record holding a ClientHello for version 3.{@code minor}, per RFC 5246 section 7.4.1.2. */
    private static byte[] clientHelloRecord(int minor) {
        ByteArrayOutputStream hello = new ByteArrayOutputStream();
        hello.write(3);
        hello.write(minor); // client_version: the highest version offered
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        hello.writeBytes(random);
        hello.write(0); // empty session id
        int[] suites = {
            0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLSv1.2 only)
            0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (TLSv1.2 only)
            0xC009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
            0xC013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
            0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA
        };
        writeShort(hello, suites.length * 2);
        for (int suite : suites) {
            writeShort(hello, suite);
        }
        hello.write(1);
        hello.write(0); // compression: null only

        ByteArrayOutputStream extensions = new ByteArrayOutputStream();
        extension(extensions, 0x000A, new byte[] {0, 2, 0, 0x17});                   // supported_groups: secp256r1
        extension(extensions, 0x000B, new byte[] {1, 0});                            // ec_point_formats: uncompressed
        extension(extensions, 0x000D, new byte[] {0, 6, 4, 3, 8, 4, 4, 1});          // signature_algorithms
        extension(extensions, 0x0017, new byte[0]);                                  // extended_master_secret
        extension(extensions, 0xFF01, new byte[] {0});                               // renegotiation_info
        writeShort(hello, extensions.size());
        hello.writeBytes(extensions.toByteArray());

        ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        handshake.write(1); // ClientHello
        int helloLength = hello.size();
        handshake.write(helloLength >>> 16);
        writeShort(handshake, helloLength & 0xFFFF);
        handshake.writeBytes(hello.toByteArray());

        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(22); // handshake
        record.write(3);
        record.write(1); // record layer version TLSv1, what real clients send for compatibility
        writeShort(record, handshake.size());
        record.writeBytes(handshake.toByteArray());
        return record.toByteArray();
    }

    private static void extension(ByteArrayOutputStream out, int type, byte[] data) {
        writeShort(out, type);
        writeShort(out, data.length);
        out.writeBytes(data);
    }

    private static void writeShort(ByteArrayOutputStream out, int value) {
        out.write(value >>> 8);
        out.write(value & 0xFF);
    }
}
