package dev.tresor.rotation.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import dev.tresor.rotation.config.ConsumerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileConsumerTest {

    @TempDir
    Path dir;

    private static final DbCredentials A = new DbCredentials("app_a", "pa'ss\\word", "db", 3306, "openemr");
    private static final DbCredentials B = new DbCredentials("app_b", "other", "db", 3306, "openemr");

    private FileConsumer consumer(String mode) {
        return new FileConsumer(new ConsumerConfig.File(dir.resolve("sqlconf.php"),
                "$login = '{{username|php}}';\n$pass = '{{password|php}}';\n// slot {{slot}} {{host}}:{{port}}/{{dbname}}\n",
                null, mode, null, null));
    }

    @Test
    void rendersAtomicallyWithModeAndEscapesForPhp() throws Exception {
        FileConsumer file = consumer("0640");
        file.deliver(A, Slot.A);
        assertThat(Files.readString(dir.resolve("sqlconf.php")))
                .isEqualTo("$login = 'app_a';\n$pass = 'pa\\'ss\\\\word';\n// slot A db:3306/openemr\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("sqlconf.php")))).isEqualTo("rw-r-----");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).as("no temp file left").containsExactly("sqlconf.php");
        }
    }

    @Test
    void tellsWhichCandidateItHolds() throws Exception {
        FileConsumer file = consumer("0600");
        List<Consumer.Candidate> both = List.of(new Consumer.Candidate(Slot.A, A), new Consumer.Candidate(Slot.B, B));
        assertThat(file.holds(both)).isEmpty();
        file.deliver(B, Slot.B);
        assertThat(file.holds(both)).contains(new Consumer.Candidate(Slot.B, B));
        Files.writeString(dir.resolve("sqlconf.php"), "edited by hand");
        assertThat(file.holds(both)).isEmpty();
    }

    @Test
    void aMissingFolderIsReportedNotCreated() {
        FileConsumer file = new FileConsumer(new ConsumerConfig.File(dir.resolve("nope/x.php"), "{{password}}", null, "0600", null, null));
        assertThat(file.preflight()).anyMatch(p -> p.contains("does not exist"));
        assertThatThrownBy(() -> file.deliver(A, Slot.A)).isInstanceOf(Consumer.ConsumerFailure.class)
                .hasMessageNotContaining(A.password());
    }

    @Test
    void credentialsNeverPrintTheirPassword() {
        assertThat(A.toString()).doesNotContain(A.password()).doesNotContain("pa'ss").contains("password hidden");
    }
}
