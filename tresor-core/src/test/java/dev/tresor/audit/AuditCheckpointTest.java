package dev.tresor.audit;

import dev.tresor.testkit.Await;
import static dev.tresor.audit.AuditFixtures.lines;
import static dev.tresor.audit.AuditFixtures.newKek;
import static dev.tresor.audit.AuditFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's checkpoints of an audit log: start-up reads only the tail, and a log or a store that
 * went back (cut, an older copy put back, deleted, the checkpoint row deleted or edited) is refused
 * with its cause unless the operator accepts it with a reason, which the chain then records.
 */
class AuditCheckpointTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final WriteEpochs AT_START = new WriteEpochs(3, 5);

    @TempDir
    Path dir;

    private LocalKeyProvider kek;
    private Path log;

    @BeforeEach
    void setUp() {
        kek = newKek(dir, "kek.json");
        log = dir.resolve("audit").resolve("audit.log");
    }

    private FileAuditSink open(Optional<String> checkpoint, WriteEpochs storeEpochs, String acceptRollback) throws IOException {
        return new FileAuditSink(log, kek, FileAuditSink.DEFAULT_FSYNC_INTERVAL, Clock.systemUTC(),
                AuditStart.of(checkpoint, true, storeEpochs, acceptRollback));
    }

    /** Writes {@code records} reads, then a checkpoint at {@code epochs}, then {@code after} more reads; closes. */
    private String writeWithCheckpoint(Optional<String> previous, int records, WriteEpochs epochs, int after) throws IOException {
        try (FileAuditSink sink = open(previous, epochs, null)) {
            for (int i = 0; i < records; i++) {
                sink.append(read(i));
            }
            String sealed = sink.checkpoint(epochs).record();
            for (int i = 0; i < after; i++) {
                sink.append(read(records + i));
            }
            return sealed;
        }
    }

    private List<JsonNode> records() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : lines(log)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void startUpReadsOnlyTheHeaderAndTheTailFromTheStoresCheckpoint() throws IOException {
        String checkpoint = writeWithCheckpoint(Optional.empty(), 20_000, AT_START, 10);
        long size = Files.size(log);
        assertThat(size).isGreaterThan(3_000_000);

        long fromCheckpoint;
        try (FileAuditSink sink = open(Optional.of(checkpoint), AT_START, null)) {
            fromCheckpoint = sink.bytesVerifiedAtOpen();
            sink.append(read(99));
        }
        long fromStart;
        try (FileAuditSink sink = new FileAuditSink(log, kek)) {
            fromStart = sink.bytesVerifiedAtOpen();
        }

        assertThat(fromCheckpoint).isPositive().isLessThan(20_000);
        assertThat(fromStart).isGreaterThanOrEqualTo(size);
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void anOlderCopyOfLogAndAnchorIsRefusedAndAcceptedOnlyWithARecordedReason() throws IOException {
        String first = writeWithCheckpoint(Optional.empty(), 5, AT_START, 0);
        Path backup = Files.createDirectories(dir.resolve("backup"));
        Files.copy(log, backup.resolve("audit.log"));
        Files.copy(Anchor.fileFor(log), backup.resolve("audit.log.anchor"));
        String checkpoint = writeWithCheckpoint(Optional.of(first), 5, AT_START, 3);
        // Put back the older copy of both: the chain and its anchor agree with each other.
        Files.copy(backup.resolve("audit.log"), log, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(backup.resolve("audit.log.anchor"), Anchor.fileFor(log), StandardCopyOption.REPLACE_EXISTING);
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();

        assertThatThrownBy(() -> open(Optional.of(checkpoint), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("before the store's checkpoint")
                .hasMessageContaining("an older copy of it was put back")
                .hasMessageContaining("--accept-rollback");

        try (FileAuditSink sink = open(Optional.of(checkpoint), AT_START, "restored the log from last night's backup")) {
            sink.append(read(7));
        }
        JsonNode accepted = records().stream().filter(r -> FileAuditSink.ACTION_ROLLBACK_ACCEPTED.equals(r.path("action").asText()))
                .findFirst().orElseThrow();
        assertThat(accepted.get("detail").asText()).contains("restored the log from last night's backup")
                .contains("before the store's checkpoint");
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aTailCutAtALineBoundaryTogetherWithItsAnchorIsRefused() throws IOException {
        String checkpoint = writeWithCheckpoint(Optional.empty(), 5, AT_START, 4);
        List<String> lines = lines(log);
        // Cut everything from the checkpoint record on and write an anchor for the new end: the
        // shortened chain and its anchor are consistent, only the store knows better.
        Files.write(log, lines.subList(0, 6).stream().map(l -> l + "\n").reduce("", String::concat).getBytes());
        Files.delete(Anchor.fileFor(log));

        assertThatThrownBy(() -> open(Optional.of(checkpoint), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("records were cut from its end");
    }

    @Test
    void aLogDeletedWithItsAnchorIsRefusedWhileTheStoreHoldsItsCheckpoint() throws IOException {
        String checkpoint = writeWithCheckpoint(Optional.empty(), 3, AT_START, 1);
        Files.delete(log);
        Files.delete(Anchor.fileFor(log));

        assertThatThrownBy(() -> open(Optional.of(checkpoint), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("the log is missing")
                .hasMessageContaining("deleted");

        try (FileAuditSink sink = open(Optional.of(checkpoint), AT_START, "log disk replaced")) {
            sink.append(read(1));
        }
        List<JsonNode> records = records();
        assertThat(records.get(1).get("action").asText()).isEqualTo(FileAuditSink.ACTION_ROLLBACK_ACCEPTED);
        assertThat(records.get(1).get("detail").asText()).contains("log disk replaced").contains("missing");
    }

    @Test
    void aStorePutBackFromAnOlderCopyIsRefusedBecauseTheLogRecordedNewerEpochs() throws IOException {
        // The store as it was backed up: its checkpoint row names an early record.
        String oldRow = writeWithCheckpoint(Optional.empty(), 3, AT_START, 2);
        // Later the store moved on and the log recorded that in a newer checkpoint.
        writeWithCheckpoint(Optional.of(oldRow), 3, new WriteEpochs(4, 9), 2);

        // The database backup is restored: its checkpoint row and its epochs are the old ones.
        assertThatThrownBy(() -> open(Optional.of(oldRow), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("recorded the store at acl epoch 4, secret epoch 9")
                .hasMessageContaining("but the store is at acl epoch 3, secret epoch 5")
                .hasMessageContaining("put back from an older copy");
        // Either epoch behind is enough.
        assertThatThrownBy(() -> open(Optional.of(oldRow), new WriteEpochs(4, 8), null))
                .isInstanceOf(AuditChainException.class);
        // A store that is ahead (writes since the checkpoint) is what every start sees.
        try (FileAuditSink sink = open(Optional.of(oldRow), new WriteEpochs(5, 9), null)) {
            sink.append(read(0));
        }
    }

    @Test
    void afterAnAcceptedRollbackTheEpochsRecordedBeforeItNoLongerBind() throws IOException {
        String row = writeWithCheckpoint(Optional.empty(), 2, new WriteEpochs(4, 9), 1);
        String afterAccepting;
        try (FileAuditSink sink = open(Optional.of(row), AT_START, "restored the database after a bad migration")) {
            afterAccepting = sink.checkpoint(AT_START).record();
        }
        // From that checkpoint (tail only) and from the start (whole chain): both accept the store now.
        try (FileAuditSink sink = open(Optional.of(afterAccepting), AT_START, null)) {
            sink.append(read(1));
        }
        assertThat(AuditVerifier.verify(log, kek).ok()).isTrue();
    }

    @Test
    void aDeletedCheckpointRowIsRefusedWhenTheLogHoldsCheckpoints() throws IOException {
        writeWithCheckpoint(Optional.empty(), 2, AT_START, 1);

        assertThatThrownBy(() -> open(Optional.empty(), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("the store has no checkpoint of it");
    }

    @Test
    void anEditedOrForeignCheckpointRowIsRefused() throws IOException {
        String row = writeWithCheckpoint(Optional.empty(), 2, AT_START, 1);
        Map<String, Object> fields = new java.util.LinkedHashMap<>(JSON.readValue(row, Map.class));
        fields.put("offset", ((Number) fields.get("offset")).longValue() + 1);
        String moved = JSON.writeValueAsString(fields);

        assertThatThrownBy(() -> open(Optional.of(moved), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("does not verify");

        // A sound checkpoint of another log (another chain key) does not verify here either.
        Path other = dir.resolve("audit").resolve("other").resolve("audit.log");
        String foreign;
        try (FileAuditSink sink = new FileAuditSink(other, kek)) {
            sink.append(read(1));
            foreign = sink.checkpoint(AT_START).record();
        }
        assertThatThrownBy(() -> open(Optional.of(foreign), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("does not verify");
    }

    @Test
    void aRecordEditedAfterTheCheckpointIsStillCaught() throws IOException {
        String row = writeWithCheckpoint(Optional.empty(), 3, AT_START, 3);
        List<String> lines = new ArrayList<>(lines(log));
        int last = lines.size() - 2;
        lines.set(last, lines.get(last).replace("\"outcome\":\"allowed\"", "\"outcome\":\"denied\""));
        assertThat(lines.get(last)).contains("\"outcome\":\"denied\"");
        AuditFixtures.writeLines(log, lines);

        assertThatThrownBy(() -> open(Optional.of(row), AT_START, null))
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("MAC mismatch");
        assertThatThrownBy(() -> open(Optional.of(row), AT_START, "anything"))
                .as("an edit is tampering, not a rollback: no reason lets it through")
                .isInstanceOf(AuditChainException.class)
                .hasMessageContaining("MAC mismatch");
    }

    @Test
    void aNewLogOnAStoreWithDataSaysSoInItsFirstRecord() throws IOException {
        try (FileAuditSink sink = open(Optional.empty(), AT_START, null)) {
            sink.append(read(1));
        }
        JsonNode first = records().get(1);
        assertThat(first.get("action").asText()).isEqualTo("audit.open");
        assertThat(first.get("detail").asText()).contains("already holds data").contains("no checkpoint of this log");
    }

    @Test
    void theCheckpointerSavesAtStartEveryNRecordsAndAtClose() throws Exception {
        Map<String, String> rows = new ConcurrentHashMap<>();
        AtomicReference<WriteEpochs> epochs = new AtomicReference<>(AT_START);
        long lastSeq;
        try (FileAuditSink sink = open(Optional.empty(), AT_START, null)) {
            AuditCheckpointer checkpointer = new AuditCheckpointer(List.of(sink), () -> Optional.of(epochs.get()),
                    rows::put, Duration.ofHours(1), 5, Clock.systemUTC());
            checkpointer.start();
            assertThat(checkpointer.taken()).isEqualTo(1);
            assertThat(rows).containsOnlyKeys("audit.log");
            for (int round = 1; round <= 2; round++) {
                for (int i = 0; i < 5; i++) {
                    sink.append(read(i));
                }
                int expected = 1 + round;
                Await.until("checkpoint " + expected + " (one per 5 records)", () -> checkpointer.taken() >= expected);
                assertThat(checkpointer.taken()).as("one per 5 records").isEqualTo(expected);
            }
            sink.append(read(13));
            epochs.set(new WriteEpochs(3, 6));
            checkpointer.close();
            lastSeq = sink.writtenSeq();
            assertThat(checkpointer.failed()).isZero();
        }
        JsonNode saved = JSON.readTree(rows.get("audit.log"));
        assertThat(saved.get("seq").asLong()).as("the final checkpoint is the last record before close").isEqualTo(lastSeq);
        assertThat(saved.get("secretEpoch").asLong()).isEqualTo(6);
        try (FileAuditSink sink = open(Optional.of(rows.get("audit.log")), new WriteEpochs(3, 6), null)) {
            assertThat(sink.bytesVerifiedAtOpen()).isLessThan(Files.size(log) / 2);
        }
    }
}
