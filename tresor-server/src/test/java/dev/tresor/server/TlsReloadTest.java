package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A renewed server certificate is served without a restart: new connections get it, open
 * keep-alive connections go on with theirs, and a broken pair keeps the last good one with an
 * alarm. The test calls the reload check itself instead of waiting for the periodic one.
 */
class TlsReloadTest {

    private static final int TIMEOUT_MILLIS = 20_000;
    private static final byte[] WHOAMI = "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void aRenewedCertificateReachesNewConnectionsAndOpenOnesStayUp(@TempDir Path dir) throws Exception {
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            SSLContext admin = f.admin().sslContext(f.pki().caCertificate());
            int port = f.server().apiPort();
            try (RawHttps before = new RawHttps(admin, port, TIMEOUT_MILLIS)) {
                assertThat(before.exchange(WHOAMI).status()).isEqualTo(200);
                BigInteger first = before.serverCertificate().getSerialNumber();

                f.pki().server("localhost", "127.0.0.1").writePem(f.dir(), "server");
                f.server().reloadTls(); // the periodic check may have been first; either way:
                BigInteger renewed = f.server().servingCertificate().getSerialNumber();
                assertThat(renewed).isNotEqualTo(first);
                try (RawHttps after = new RawHttps(admin, port, TIMEOUT_MILLIS)) {
                    assertThat(after.serverCertificate().getSerialNumber()).isEqualTo(renewed);
                    assertThat(after.exchange(WHOAMI).status()).isEqualTo(200);
                }
                assertThat(before.exchange(WHOAMI).status()).as("the open connection goes on").isEqualTo(200);
                assertThat(before.serverCertificate().getSerialNumber()).isEqualTo(first);

                // A broken renewal: the last good pair stays, and the metrics say the files are not in use.
                Files.writeString(f.dir().resolve("server.crt"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
                assertThat(f.server().reloadTls()).isFalse();
                assertThat(f.server().reloadTls()).as("the second look counts it").isFalse();
                try (RawHttps still = new RawHttps(admin, port, TIMEOUT_MILLIS)) {
                    assertThat(still.serverCertificate().getSerialNumber()).isEqualTo(renewed);
                    assertThat(still.exchange(WHOAMI).status()).isEqualTo(200);
                }
                String metrics = f.management("GET", "/metrics").body();
                assertThat(metrics).contains("tresor_tls_files_unused 1.0");
                assertThat(metrics).containsPattern("tresor_tls_reload_failures_total [1-9]");

                f.pki().server("localhost", "127.0.0.1").writePem(f.dir(), "server");
                f.server().reloadTls();
                assertThat(f.server().servingCertificate().getSerialNumber()).isNotEqualTo(renewed);
                assertThat(f.management("GET", "/metrics").body()).contains("tresor_tls_files_unused 0.0");
            }
        }
    }
}
