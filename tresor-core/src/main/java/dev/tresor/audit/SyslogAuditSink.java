package dev.tresor.audit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Audit records to a syslog collector: RFC 5424 messages over TLS (RFC 5425, octet-counting
 * framing), one per record, the record as JSON in the message. The collector's certificate is
 * checked against the given trust anchors and its name against {@code host} (no "accept any"
 * mode: a SIEM feed is evidence). Connects on the first record and again after a failure; a
 * failed write fails that record (the caller, usually a {@link BestEffortSink}, decides what then).
 */
public final class SyslogAuditSink implements AuditSink {

    /** RFC 5424 facility 13, "log audit". */
    private static final int FACILITY_LOG_AUDIT = 13;
    private static final int MAX_MSGID = 32;

    private final String host;
    private final int port;
    private final SSLContext tls;
    private final String appName;
    private final String hostname;
    private final String procId;
    private final Duration connectTimeout;
    private final ReentrantLock lock = new ReentrantLock();
    private SSLSocket socket;
    private OutputStream out;

    /**
     * @param hostname this host's name as the messages give it (RFC 5424 HOSTNAME)
     */
    public SyslogAuditSink(String host, int port, SSLContext tls, String appName, String hostname, Duration connectTimeout) {
        this.host = Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        this.port = port;
        this.tls = Objects.requireNonNull(tls, "tls");
        this.appName = printable(Objects.requireNonNull(appName, "appName"), 48);
        this.hostname = printable(Objects.requireNonNull(hostname, "hostname"), 255);
        this.procId = Long.toString(ProcessHandle.current().pid());
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    }

    @Override
    public void append(AuditEvent event) throws IOException {
        appendAll(java.util.List.of(event));
    }

    /**
     * All of {@code events} in one write: one TLS record and one system call for a whole batch.
     * Each message is built once in a reused buffer and copied once into the batch.
     */
    @Override
    public void appendAll(java.util.List<AuditEvent> events) throws IOException {
        ByteArrayOutputStream frames = new ByteArrayOutputStream(events.size() * 512);
        ByteArrayOutputStream message = new ByteArrayOutputStream(512);
        for (AuditEvent event : events) {
            message.reset();
            writeMessage(event, message);
            frames.writeBytes(Integer.toString(message.size()).getBytes(StandardCharsets.US_ASCII));
            frames.write(' ');
            message.writeTo(frames);
        }
        send(frames);
    }

    private void send(ByteArrayOutputStream frames) throws IOException {
        lock.lock();
        try {
            try {
                if (out != null && peerClosed()) {
                    disconnect();
                }
                if (out == null) {
                    connect();
                }
                frames.writeTo(out);
                out.flush();
            } catch (IOException e) {
                disconnect();
                throw new IOException("syslog " + host + ":" + port + ": " + e.getMessage(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The RFC 5424 message: header, no structured data ("-"), the record as JSON. */
    private void writeMessage(AuditEvent event, ByteArrayOutputStream message) {
        String head = "<" + (FACILITY_LOG_AUDIT * 8 + severity(event.outcome())) + ">1 " + event.time() + " " + hostname
                + " " + appName + " " + procId + " " + printable(event.action(), MAX_MSGID) + " - ";
        message.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
        EventJson.write(event, message);
    }

    /** Informational for what went through; notice for refusals; error for tampering and failures. */
    private static int severity(String outcome) {
        return switch (outcome) {
            case "allowed", "ok", "intent" -> 6;
            case "denied", "rejected" -> 5;
            case "tamper" -> 2;
            default -> 3;
        };
    }

    /** RFC 5424 header fields are printable US-ASCII without spaces; "-" stands for none. */
    private static String printable(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            b.append(c > 32 && c < 127 ? c : '_');
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private void connect() throws IOException {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket();
        try {
            SSLParameters params = s.getSSLParameters();
            // Checks the collector's certificate names the host we dialled.
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.connect(new InetSocketAddress(host, port), (int) connectTimeout.toMillis());
            s.setSoTimeout((int) connectTimeout.toMillis());
            s.startHandshake();
            socket = s;
            out = s.getOutputStream();
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Whether the collector has closed the connection (it sends nothing otherwise): RFC 5425 has no
     * acknowledgement, so a batch written into a connection the collector already closed would be
     * taken by TCP and lost. Asked before each write, with a 1 ms read; what remains is a collector
     * that goes away between this check and the write.
     */
    private boolean peerClosed() {
        try {
            socket.setSoTimeout(1);
            try {
                return socket.getInputStream().read() < 0;
            } finally {
                socket.setSoTimeout((int) connectTimeout.toMillis());
            }
        } catch (java.net.SocketTimeoutException alive) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // the connection is being dropped anyway
            }
        }
        socket = null;
        out = null;
    }

    @Override
    public String name() {
        return "syslog:" + host + ":" + port;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            disconnect();
        } finally {
            lock.unlock();
        }
    }
}
