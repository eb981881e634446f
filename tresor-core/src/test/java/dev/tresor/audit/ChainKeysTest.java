package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A KEK rotation re-wraps the audit chain keys beside the logs (tresor-audit-keys.jsonl): every
 * log, closed segments included, then verifies and continues with the new KEK alone, while the
 * log files stay byte for byte as they were.
 */
class ChainKeysTest {

    private static final SegmentPolicy SMALL = new SegmentPolicy(16 * 1024, null);

    @TempDir
    Path dir;

    private LocalKeyProvider oldKek;
    private LocalKeyProvider newKek;
    private Path log;

    @BeforeEach
    void setUp() {
        oldKek = newKek(dir, "kek-old.json");
        newKek = newKek(dir, "kek-new.json");
        log = dir.resolve("audit").resolve("audit.log");
    }

    private FileAuditSink open(LocalKeyProvider kek) throws IOException {
        return new FileAuditSink(log, kek, Duration.ofMillis(5), Clock.systemUTC(), AuditStart.unanchored(), SMALL);
    }

    @Test
    void aRunningLogWithSegmentsIsRewrappedAndThenVerifiesAndContinuesUnderTheNewKekAlone() throws Exception {
        byte[] headerBefore;
        try (FileAuditSink sink = open(oldKek)) {
            for (int i = 1; i <= 400; i++) {
                sink.append(read(i));
            }
            assertThat(AuditSegments.closed(log)).isNotEmpty();
            headerBefore = Files.readAllLines(log, StandardCharsets.UTF_8).getFirst().getBytes(StandardCharsets.UTF_8);
            // Beside the running sink: it goes on writing with the chain key it holds.
            assertThat(ChainKeys.rewrap(log, oldKek, newKek)).isEqualTo(1); // one chain across all segments
            for (int i = 401; i <= 800; i++) {
                sink.append(read(i));
            }
        }
        Path keys = ChainKeys.fileFor(log);
        assertThat(Files.getPosixFilePermissions(keys)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.readAllLines(log, StandardCharsets.UTF_8).getFirst().getBytes(StandardCharsets.UTF_8))
                .isNotEqualTo(headerBefore); // segments were cut since; the first segment's header is untouched
        VerificationResult withNew = AuditVerifier.verify(List.of(log.getParent()), newKek); // every segment, one chain
        assertThat(withNew.ok()).as(withNew.problem()).isTrue();
        assertThat(withNew.segments()).isGreaterThan(1);
        assertThat(withNew.records()).isEqualTo(801);
        assertThat(AuditVerifier.verify(log, oldKek).ok()).isTrue(); // the headers still name the old KEK

        // The next start continues the chain under the new KEK.
        try (FileAuditSink sink = open(newKek)) {
            sink.append(read(801));
        }
        assertThat(AuditVerifier.verify(log, newKek).ok()).isTrue();
        // A KEK that is neither refuses, and so does the new one once the file is gone.
        LocalKeyProvider other = newKek(dir, "kek-other.json");
        assertThat(AuditVerifier.verify(log, other).problem()).contains("cannot be unwrapped with KEK " + other.keyId());
        Files.delete(keys);
        assertThat(AuditVerifier.verify(log, newKek).problem()).contains("cannot be unwrapped with KEK " + newKek.keyId())
                .contains(ChainKeys.FILE_NAME);
    }

    @Test
    void anEntryOpensOnlyForItsOwnChainAndAnEditedEntryFails() throws Exception {
        Path second = dir.resolve("audit").resolve("other.log");
        try (FileAuditSink sink = open(oldKek);
             FileAuditSink two = new FileAuditSink(second, oldKek, Duration.ofMillis(5))) {
            sink.append(read(1));
            two.append(read(2));
        }
        ChainKeys.rewrap(log, oldKek, newKek);
        ChainKeys.rewrap(second, oldKek, newKek);
        Path keys = ChainKeys.fileFor(log);
        List<String> entries = Files.readAllLines(keys, StandardCharsets.UTF_8);
        assertThat(entries).hasSize(2);
        assertThat(AuditVerifier.verify(second, newKek).ok()).isTrue();

        // The other chain's entry relabelled as this chain's: bound to its own chain, it does not open.
        String mine = entries.get(0).replaceAll(".*\"chain\":\"([0-9a-f]+)\".*", "$1");
        String theirs = entries.get(1).replaceAll(".*\"chain\":\"([0-9a-f]+)\".*", "$1");
        Files.writeString(keys, entries.get(1).replace(theirs, mine) + "\n", StandardCharsets.UTF_8);
        assertThat(AuditVerifier.verify(log, newKek).ok()).isFalse();

        // A flipped byte in the wrapped key fails too.
        String entry = entries.get(0);
        int at = entry.indexOf("\"wrappedKey\":\"") + 30;
        char flipped = entry.charAt(at) == 'A' ? 'B' : 'A';
        Files.writeString(keys, entry.substring(0, at) + flipped + entry.substring(at + 1) + "\n", StandardCharsets.UTF_8);
        assertThat(AuditVerifier.verify(log, newKek).ok()).isFalse();
    }

    @Test
    void rewrappingNeedsTheKekTheLogWasWrittenUnder() throws Exception {
        try (FileAuditSink sink = open(oldKek)) {
            sink.append(read(1));
        }
        LocalKeyProvider other = newKek(dir, "kek-other.json");
        assertThatThrownBy(() -> ChainKeys.rewrap(log, other, newKek)).isInstanceOf(IOException.class)
                .hasMessageContaining("does not open with KEK " + other.keyId());
        assertThat(Files.exists(ChainKeys.fileFor(log))).isFalse();
        // After one rotation, the next one starts from the re-wrapped copy.
        ChainKeys.rewrap(log, oldKek, newKek);
        LocalKeyProvider third = newKek(dir, "kek-third.json");
        assertThat(ChainKeys.rewrap(log, newKek, third)).isEqualTo(1);
        assertThat(AuditVerifier.verify(log, third).ok()).isTrue();
    }
}
