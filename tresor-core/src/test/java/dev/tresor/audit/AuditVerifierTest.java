package dev.tresor.audit;

import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.writeClosedLog;
import static dev.tresor.audit.AuditFixtures.writeLines;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of tampering is named with the line it starts at. Log: header, seq 1..20, close (seq 21). */
class AuditVerifierTest {

    private static final int EVENTS = 20;
    /** Header + events + close record. */
    private static final int LINES = EVENTS + 2;

    @TempDir
    Path dir;

    private LocalKeyProvider kek;
    private Path log;

    @BeforeEach
    void writeLog() throws IOException {
        kek = newKek(dir, "kek.json");
        log = dir.resolve("audit.log");
        writeClosedLog(log, kek, EVENTS);
    }

    @Test
    void anIntactChainVerifies() throws IOException {
        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result).isEqualTo(new VerificationResult(true, EVENTS + 1, -1, null, true, 1, 1));
        assertThat(lines(log)).hasSize(LINES);
    }

    @Test
    void reSerialisingWithAnotherKeyOrderAndSpacingStillVerifies() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> rewritten = new ArrayList<>();
        for (String line : lines(log)) {
            Map<String, Object> sorted = new TreeMap<>(Collections.reverseOrder());
            sorted.putAll(json.readValue(line, Map.class));
            rewritten.add(json.writeValueAsString(sorted).replace(",", ", "));
        }
        writeLines(log, rewritten);

        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void anEditedFieldIsAMacMismatchOnThatLine() throws IOException {
        List<String> lines = lines(log);
        assertThat(lines.get(16)).contains("\"client\":\"spiffe://tresor.local/ns/openemr/sa/openemr\"");
        lines.set(16, lines.get(16).replace("\"client\":\"spiffe://tresor.local/ns/openemr/sa/openemr\"", "\"client\":\"mallory\""));
        writeLines(log, lines);

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.ok()).isFalse();
        assertThat(result.firstBadLine()).isEqualTo(17);
        assertThat(result.records()).isEqualTo(15);
        assertThat(result.problem()).isEqualTo("line 17 (seq 16): MAC mismatch — the record was edited");
    }

    @Test
    void anEditedHeaderIsNamed() throws IOException {
        List<String> lines = lines(log);
        lines.set(0, lines.get(0).replaceFirst("\"created\":\"[^\"]+\"", "\"created\":\"2020-01-01T00:00:00Z\""));
        writeLines(log, lines);

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.firstBadLine()).isEqualTo(1);
        assertThat(result.problem()).isEqualTo("line 1 (header): MAC mismatch — the header was edited");
    }

    @Test
    void aDroppedRecordIsNamed() throws IOException {
        List<String> lines = lines(log);
        lines.remove(8); // line 9, seq 8
        writeLines(log, lines);

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.firstBadLine()).isEqualTo(9);
        assertThat(result.problem()).isEqualTo("line 9: seq 8 expected, found 9 — a record was dropped or reordered");
    }

    @Test
    void swappedRecordsAreNamed() throws IOException {
        List<String> lines = lines(log);
        Collections.swap(lines, 4, 5); // lines 5 and 6
        writeLines(log, lines);

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.firstBadLine()).isEqualTo(5);
        assertThat(result.problem()).isEqualTo("line 5: seq 4 expected, found 5 — a record was dropped or reordered");
    }

    @Test
    void aLastLineCutMidWayIsAnIncompleteLine() throws IOException {
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 25);
        }

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.firstBadLine()).isEqualTo(LINES);
        assertThat(result.problem()).isEqualTo("line " + LINES + ": incomplete line — truncated record");
    }

    @Test
    void removingWholeRecordsFromTheEndIsCaughtByTheAnchor() throws IOException {
        List<String> lines = lines(log);
        writeLines(log, lines.subList(0, LINES - 5)); // ends at seq 16; the anchor names the close record, seq 21

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.ok()).isFalse();
        assertThat(result.firstBadLine()).isEqualTo(LINES - 4);
        assertThat(result.records()).isEqualTo(16);
        assertThat(result.problem()).isEqualTo("file ends at seq 16 but the anchor says 21 — records were removed from the end");
    }

    @Test
    void aForgedAnchorIsNamed() throws IOException {
        Path anchor = dir.resolve("audit.log.anchor");
        Files.writeString(anchor, Files.readString(anchor).replace("\"seq\":21", "\"seq\":5"));

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.ok()).isFalse();
        assertThat(result.problem()).isEqualTo("anchor file audit.log.anchor: MAC mismatch — the anchor was edited or belongs to another log");
    }

    @Test
    void withoutTheAnchorTruncationShowsOnlyAsAnUncleanEnd() throws IOException {
        // The known limit: whoever deletes the anchor too can cut records off the end unnoticed
        // by the chain; the missing close record is then the only sign.
        Files.delete(dir.resolve("audit.log.anchor"));
        writeLines(log, lines(log).subList(0, LINES - 5));

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.ok()).isTrue();
        assertThat(result.cleanlyClosed()).isFalse();
    }

    @Test
    void aDuplicatedKeyCannotSmuggleADifferentReading() throws IOException {
        List<String> lines = lines(log);
        String line = lines.get(3);
        lines.set(3, line.substring(0, line.length() - 1) + ",\"client\":\"mallory\"}");
        writeLines(log, lines);

        VerificationResult result = AuditVerifier.verify(log, kek);

        assertThat(result.firstBadLine()).isEqualTo(4);
        assertThat(result.problem()).isEqualTo("line 4: field 'client' appears twice — the record was damaged or edited");
    }

    @Test
    void aLogWrittenUnderAnotherKekFailsWithAClearMessage() {
        LocalKeyProvider other = newKek(dir, "other-kek.json");

        VerificationResult result = AuditVerifier.verify(log, other);

        assertThat(result.ok()).isFalse();
        assertThat(result.firstBadLine()).isEqualTo(1);
        assertThat(result.problem())
                .startsWith("line 1: the chain key cannot be unwrapped with KEK " + other.keyId())
                .contains("the header names " + kek.keyId())
                .contains("written under another KEK");
    }

    @Test
    void aMissingFileIsReportedNotThrown() {
        VerificationResult result = AuditVerifier.verify(dir.resolve("nope.log"), kek);

        assertThat(result.ok()).isFalse();
        assertThat(result.problem()).endsWith("nope.log does not exist");
    }
}
