package dev.tresor.testkit;



import java.io.IOException;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real rsyslogd (Debian `rsyslog` + `rsyslog-gnutls`, installed by .ci/run) listening for
 * RFC 5425 syslog over TLS on a free loopback port, writing what it receives to a file. Fails
 * loudly when rsyslogd is missing.
 */
public final class RsyslogServer implements AutoCloseable {

    public static final Path RSYSLOGD = Path.of("/usr/sbin/rsyslogd");

    private final Path dir;
    private final Path received;
    private final Path conf;
    private final int port;
    private Process process;

    public RsyslogServer(Path dir, TestPki pki) throws IOException {
        if (!Files.isExecutable(RSYSLOGD) || !Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"))) {
            throw new IllegalStateException("rsyslogd with TLS is not installed: apt-get install rsyslog rsyslog-gnutls"
                    + " (.ci/run does this)");
        }
        this.dir = Files.createDirectories(dir);
        // Named localhost only, so dialling 127.0.0.1 is a name mismatch.
        IssuedCert server = pki.server("localhost");
        IssuedCert.PemFiles pem = server.writePem(dir, "rsyslog");
        Files.writeString(pem.privateKey(), withPublicKey(server));
        Path ca = pki.writeCaPem(dir.resolve("ca.pem"));
        this.received = dir.resolve("received.log");
        try (ServerSocket probe = new ServerSocket(0)) {
            this.port = probe.getLocalPort();
        }
        this.conf = dir.resolve("rsyslog.conf");
        Files.writeString(conf, """
                global(workDirectory="%1$s" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="%2$s"
                       DefaultNetstreamDriverCertFile="%3$s" DefaultNetstreamDriverKeyFile="%4$s")
                module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
                input(type="imtcp" port="%5$d" address="127.0.0.1" ruleset="tresor")
                template(name="line" type="string" string="%%pri%% %%app-name%% %%msgid%% %%msg%%\\n")
                ruleset(name="tresor") {
                  action(type="omfile" file="%6$s" template="line")
                }
                """.formatted(dir, ca, pem.certificate(), pem.privateKey(), port, received));
    }

    /**
     * The key as PKCS#8 with the curve and public key inside the EC structure: the JDK leaves both
     * out (they are optional in RFC 5915) and GnuTLS then fails with "ASN1 parser: Element was not found".
     */
    private static String withPublicKey(IssuedCert cert) throws IOException {
        java.security.interfaces.ECPrivateKey key = (java.security.interfaces.ECPrivateKey) cert.privateKey();
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(cert.certificate().getPublicKey().getEncoded());
        ECPrivateKey inner = new ECPrivateKey(key.getParams().getOrder().bitLength(), key.getS(), spki.getPublicKeyData(),
                spki.getAlgorithm().getParameters());
        byte[] der = new PrivateKeyInfo(info.getPrivateKeyAlgorithm(), inner).getEncoded();
        java.io.StringWriter out = new java.io.StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("PRIVATE KEY", der));
        }
        return out.toString();
    }

    public int port() {
        return port;
    }

    /** rsyslogd's process id (it runs in the foreground, {@code -n}), for CPU accounting. */
    public long pid() {
        if (process == null) {
            throw new IllegalStateException("rsyslogd is not running");
        }
        return process.pid();
    }

    /** Starts (or restarts) rsyslogd and waits until it accepts connections. */
    public void start() throws IOException, InterruptedException {
        process = new ProcessBuilder(RSYSLOGD.toString(), "-n", "-f", conf.toString(), "-i", dir.resolve("pid").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("rsyslogd.out").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("rsyslogd exited: " + Files.readString(dir.resolve("rsyslogd.out")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("rsyslogd did not listen on " + port + " within 20 s: "
                + Files.readString(dir.resolve("rsyslogd.out")));
    }

    public void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            process.waitFor();
            process = null;
        }
    }

    /** The lines received so far, waiting up to 20 s until there are at least {@code count}. */
    public List<String> awaitLines(int count) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(received) ? Files.readAllLines(received) : List.of();
            if (lines.size() >= count) {
                return lines;
            }
            Thread.sleep(50);
        }
        return lines;
    }

    /** The lines received so far, waiting up to 20 s until one contains {@code text}. */
    public List<String> awaitLine(String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(received) ? Files.readAllLines(received) : List.of();
            if (lines.stream().anyMatch(l -> l.contains(text))) {
                return lines;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("rsyslogd did not receive a line containing " + text + " within 20 s; got " + lines);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
