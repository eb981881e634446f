package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server killed with SIGKILL loses no record it acknowledged, and the log still verifies. */
class AuditCrashTest {

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedRecordSurvivesAKill() throws Exception {
        LocalKeyProvider kek = newKek(dir, "kek.json");
        Path log = dir.resolve("audit.log");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                AuditCrashWriter.class.getName(), log.toString(), dir.resolve("kek.json").toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        int acknowledged = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (acknowledged < 2_000 && (line = out.readLine()) != null) {
                acknowledged = Integer.parseInt(line.substring("ack ".length()));
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no close record
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(acknowledged).isEqualTo(2_000);

        VerificationResult result = AuditVerifier.verify(log, kek);
        assertThat(result.ok()).as(result.problem()).isTrue();
        assertThat(result.cleanlyClosed()).isFalse();
        assertThat(result.records()).isGreaterThanOrEqualTo(acknowledged);
        List<String> lines = lines(log);
        for (int i = 1; i <= acknowledged; i++) {
            assertThat(lines.get(i)).contains("\"requestId\":\"crash-" + i + "\"");
        }

        try (FileAuditSink reopened = new FileAuditSink(log, kek)) {
            reopened.append(AuditFixtures.read(1));
        }
        assertThat(lines(log)).anyMatch(l -> l.contains("\"audit.open\"") && l.contains("stopped without closing"));
        assertThat(AuditVerifier.verify(log, kek).cleanlyClosed()).isTrue();
    }
}
