package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertPathBuilderException;
import java.time.Clock;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which failure exits with which code, and what it says. */
class ExitCodesTest {

    private static final ConnectionSettings SETTINGS = new ConnectionSettings(
            new Setting<>(URI.create("https://127.0.0.1:7443"), "TRESOR_ADDR"),
            new Setting<>(Path.of("/nonexistent/app.crt"), "TRESOR_CERT"),
            new Setting<>(Path.of("/nonexistent/app.key"), "TRESOR_KEY"),
            new Setting<>(Path.of("/nonexistent/ca.crt"), "TRESOR_CA"));

    @ParameterizedTest
    @CsvSource({
            "200, 0", "201, 0", "400, 2", "413, 2", "401, 4", "403, 4", "404, 3", "410, 3",
            "409, 1", "500, 1", "503, 5", "502, 5"})
    void httpStatusesMapToExitCodes(int status, int exitCode) {
        assertThat(ExitCodes.forHttpStatus(status)).isEqualTo(exitCode);
    }

    @Test
    void serverErrorsCarryTheServersMessageAndRequestId() {
        byte[] body = "{\"error\":\"secret 'x' does not exist\",\"requestId\":\"abc123\"}".getBytes(StandardCharsets.UTF_8);
        CliException failure = TresorClient.failure(new ApiReply(404, body, "application/json", "abc123"));
        assertThat(failure.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(failure.getMessage()).isEqualTo("secret 'x' does not exist (request id abc123)");

        CliException conflict = TresorClient.failure(new ApiReply(409,
                "{\"error\":\"version 3 is not current\",\"requestId\":\"r\"}".getBytes(StandardCharsets.UTF_8), "application/json", null));
        assertThat(conflict.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(conflict.getMessage()).contains("version 3 is not current");
    }

    @Test
    void nonJsonErrorsStillSayWhatHappened() {
        CliException failure = TresorClient.failure(new ApiReply(503, "<html>".getBytes(StandardCharsets.UTF_8), "text/html", null));
        assertThat(failure.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(failure.getMessage()).contains("HTTP 503");
    }

    @Test
    void connectionRefusedNamesTheAddress() {
        CliException e = TransportFailures.classify(new ConnectException("Connection refused"), SETTINGS, Clock.systemUTC());
        assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo(
                "cannot reach Tresor at https://127.0.0.1:7443: is the server running? (check TRESOR_ADDR)");
    }

    @Test
    void untrustedServerCertificateNamesTheCaSetting() {
        SSLHandshakeException handshake = new SSLHandshakeException("PKIX path building failed");
        handshake.initCause(new CertPathBuilderException("unable to find valid certification path to requested target"));
        CliException e = TransportFailures.classify(handshake, SETTINGS, Clock.systemUTC());
        assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(e.getMessage()).isEqualTo(
                "the server's certificate is not trusted by TRESOR_CA (/nonexistent/ca.crt): check TRESOR_CA");
    }

    @Test
    void refusedClientCertificateIsDenied() {
        for (String alert : new String[] {"certificate_unknown", "bad_certificate", "handshake_failure"}) {
            CliException e = TransportFailures.classify(
                    new SSLHandshakeException("(" + alert + ") Received fatal alert: " + alert), SETTINGS, Clock.systemUTC());
            assertThat(e.exitCode()).as(alert).isEqualTo(ExitCodes.DENIED);
            assertThat(e.getMessage()).startsWith(
                    "the server refused this client certificate (TRESOR_CERT=/nonexistent/app.crt): is it issued by the server's CA and unexpired?");
        }
        CliException reset = TransportFailures.classify(new java.io.IOException("Connection reset"), SETTINGS, Clock.systemUTC());
        assertThat(reset.exitCode()).isEqualTo(ExitCodes.DENIED);
    }

    @Test
    void timeoutsAreUnavailable() {
        assertThat(TransportFailures.classify(new HttpConnectTimeoutException("connect timed out"), SETTINGS, Clock.systemUTC()))
                .satisfies(e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("timed out connecting").contains("TRESOR_ADDR");
                });
        assertThat(TransportFailures.classify(new HttpTimeoutException("request timed out"), SETTINGS, Clock.systemUTC()).exitCode())
                .isEqualTo(ExitCodes.UNAVAILABLE);
    }

    @Test
    void hostNameMismatchIsExplained() {
        SSLHandshakeException handshake = new SSLHandshakeException("No subject alternative names matching IP address 10.0.0.1 found");
        CliException e = TransportFailures.classify(handshake, SETTINGS, Clock.systemUTC());
        assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(e.getMessage()).contains("does not cover the host").contains("TRESOR_ADDR");
    }

    @Test
    void theHelpFooterListsEveryExitCode() {
        String help = String.join("\n", ExitCodes.HELP_LINES);
        for (int code : new int[] {ExitCodes.OK, ExitCodes.ERROR, ExitCodes.USAGE, ExitCodes.NOT_FOUND, ExitCodes.DENIED,
                ExitCodes.UNAVAILABLE}) {
            assertThat(help).contains("  " + code + "  ");
        }
    }
}
