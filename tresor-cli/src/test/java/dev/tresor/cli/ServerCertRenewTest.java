package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.ca.Pem;
import dev.tresor.server.bootstrap.DataFolder;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerCertRenewTest {

    @TempDir
    Path home;

    @Test
    void renewsOnlyWhenDueOrForcedAndKeepsTheNames(@TempDir Path work) throws Exception {
        Path dir = work.resolve("data");
        new DataFolder(dir).create(new DataFolder.Options("tresor.local", "127.0.0.1:0", "127.0.0.1:0",
                List.of("tresor.tresor.svc"), "admin", Duration.ofDays(1), work.resolve("admin")), Clock.systemUTC());
        X509Certificate before = Pem.readCertificates(dir.resolve("server.crt")).getFirst();

        CliHarness.Run notDue = CliHarness.run(Map.of(), home, "server", "cert", "renew", "--dir", dir.toString());
        assertThat(notDue.exitCode()).as(notDue.err()).isZero();
        assertThat(notDue.out()).contains("nothing to do");
        assertThat(Pem.readCertificates(dir.resolve("server.crt")).getFirst()).isEqualTo(before);

        CliHarness.Run forced = CliHarness.run(Map.of(), home, "server", "cert", "renew", "--dir", dir.toString(), "--force",
                "--json");
        assertThat(forced.exitCode()).as(forced.err()).isZero();
        assertThat(new ObjectMapper().readTree(forced.out()).get("renewed").asBoolean()).isTrue();
        X509Certificate after = Pem.readCertificates(dir.resolve("server.crt")).getFirst();
        assertThat(after.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
        assertThat(List.copyOf(after.getSubjectAlternativeNames())).isEqualTo(List.copyOf(before.getSubjectAlternativeNames()));
        // The new key belongs to the new certificate (the server would refuse the pair otherwise).
        dev.tresor.ca.TrustMaterial.serverContext(dir.resolve("server.crt"), dir.resolve("server.key"), dir.resolve("ca.crt"));

        CliHarness.Run wrongDir = CliHarness.run(Map.of(), home, "server", "cert", "renew", "--dir", work.toString());
        assertThat(wrongDir.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(wrongDir.err()).contains("has no server.crt");

        CliHarness.Run noConfig = CliHarness.run(Map.of(), home, "server");
        assertThat(noConfig.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noConfig.err()).contains("--config");
    }
}
