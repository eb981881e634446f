package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.testkit.IssuedCert;
import dev.tresor.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The helpers behind the commands. */
class SmallPartsTest {

    @TempDir
    Path dir;

    @Test
    void exportLinesQuoteOnlyWhenNeeded() {
        assertThat(ShellExports.quote("/home/a/.tresor/dev/clients/admin.crt")).isEqualTo("/home/a/.tresor/dev/clients/admin.crt");
        assertThat(ShellExports.quote("/tmp/my certs/it's.crt")).isEqualTo("'/tmp/my certs/it'\\''s.crt'");
        assertThat(ShellExports.lines("https://127.0.0.1:7443", Path.of("/c"), Path.of("/k"), Path.of("/a")))
                .containsExactly("export TRESOR_ADDR=https://127.0.0.1:7443", "export TRESOR_CERT=/c",
                        "export TRESOR_KEY=/k", "export TRESOR_CA=/a");
    }

    @Test
    void devRewritesOnlyTheListenPorts() {
        String yaml = """
                listen:
                  # The mTLS API
                  api: "127.0.0.1:7443"
                  management: "127.0.0.1:7444"
                tls:
                  cert: server.crt
                """;
        String moved = DevCommand.withListenPort(DevCommand.withListenPort(yaml, "api", 40001), "management", 40002);
        assertThat(moved).contains("  api: \"127.0.0.1:40001\"", "  management: \"127.0.0.1:40002\"", "# The mTLS API",
                "cert: server.crt");
    }

    @Test
    void secretFilesAreWrittenOwnerOnlyAndReplacedWhole() throws Exception {
        Path file = dir.resolve("out/secret.bin");
        SecureFiles.writeOwnerOnly(file, new byte[] {1, 2, 3});
        SecureFiles.writeOwnerOnly(file, "new".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readString(file)).isEqualTo("new");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var leftovers = Files.list(file.getParent())) {
            assertThat(leftovers).containsExactly(file);
        }
    }

    @Test
    void textAndBinaryValuesAreTold() {
        assertThat(SecretPutCommand.utf8("grüße\n".getBytes(StandardCharsets.UTF_8))).isEqualTo("grüße\n");
        assertThat(SecretPutCommand.utf8(new byte[] {(byte) 0xff, 0, 1})).isNull();
    }

    @Test
    void tablesAlignAndNeutraliseControlCharacters() {
        var out = new java.io.ByteArrayOutputStream();
        Table table = new Table("NAME", "GROUPS");
        table.row("db/password", "app");
        table.row("x\u001b[31m", null);
        table.print(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("""
                NAME         GROUPS
                db/password  app
                x?[31m       -
                """);
    }

    @Test
    void followingTheAuditLogPrintsEachRecordOnce() throws Exception {
        AuditTailCommand.FollowState state = new AuditTailCommand.FollowState();
        List<String> printed = new ArrayList<>();
        state.emitNew(records("""
                [{"seq":1,"time":"2030-01-01T00:00:00Z","requestId":"a","action":"secret.read"},
                 {"seq":2,"time":"2030-01-01T00:00:01Z","requestId":"b","action":"secret.read"}]"""),
                r -> printed.add(r.get("requestId").asText()));
        // The next poll asks "since the newest time" and so sees b again, plus a record at the same instant.
        state.emitNew(records("""
                [{"seq":2,"time":"2030-01-01T00:00:01Z","requestId":"b","action":"secret.read"},
                 {"seq":3,"time":"2030-01-01T00:00:01Z","requestId":"c","action":"whoami"},
                 {"seq":4,"time":"2030-01-01T00:00:02Z","requestId":"d","action":"secret.read"}]"""),
                r -> printed.add(r.get("requestId").asText()));
        assertThat(printed).containsExactly("a", "b", "c", "d");
    }

    private static JsonNode records(String json) throws Exception {
        return Json.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    /** A refused handshake with a key from another client is a usage error naming both settings, not "denied". */
    @Test
    void aKeyFromAnotherClientIsToldApartFromARefusedCertificate() {
        TestPki pki = TestPki.create("cli-keys");
        IssuedCert.PemFiles app1 = pki.client("app1").writePem(dir, "app1");
        IssuedCert.PemFiles app2 = pki.client("app2").writePem(dir, "app2");
        Throwable refused = new javax.net.ssl.SSLHandshakeException("Received fatal alert: bad_certificate");

        CliException mixedUp = TransportFailures.classify(refused, settings(app1.certificate(), app2.privateKey()),
                java.time.Clock.systemUTC());
        assertThat(mixedUp.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(mixedUp.getMessage()).isEqualTo("TRESOR_KEY (" + app2.privateKey() + ") is not the private key of "
                + "TRESOR_CERT (" + app1.certificate() + "): point both at the same client's files");

        CliException denied = TransportFailures.classify(refused, settings(app1.certificate(), app1.privateKey()),
                java.time.Clock.systemUTC());
        assertThat(denied.exitCode()).isEqualTo(ExitCodes.DENIED);
        assertThat(denied.getMessage()).startsWith("the server refused this client certificate (TRESOR_CERT=");

        // Files that cannot be read again do not get blamed: the check only sharpens a message.
        assertThat(TransportFailures.keyBelongsToCertificate(dir.resolve("gone.key"), app1.certificate())).isTrue();
    }

    private static ConnectionSettings settings(Path cert, Path key) {
        return new ConnectionSettings(new Setting<>(java.net.URI.create("https://127.0.0.1:7443"), "TRESOR_ADDR"),
                new Setting<>(cert, "TRESOR_CERT"), new Setting<>(key, "TRESOR_KEY"), new Setting<>(cert, "TRESOR_CA"));
    }

    @Test
    void pathsAreSentUnescapedWhenTheyAreValidNames() {
        assertThat(TresorClient.encodePath("secrets/db/pass_word-1.2")).isEqualTo("secrets/db/pass_word-1.2");
        assertThat(TresorClient.encodePath("secrets/a b")).isEqualTo("secrets/a%20b");
    }
}
