package dev.tresor.audit;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Shared helpers: real key files, real log files, and line-level surgery on them. */
final class AuditFixtures {

    static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    private AuditFixtures() {}

    static LocalKeyProvider newKek(Path dir, String name) {
        return LocalKeyProvider.create(dir.resolve(name));
    }

    static AuditEvent read(int i, String client, String secret) {
        return new AuditEvent(T0.plusSeconds(i), "req-" + i, client, "secret.read", secret, 1, "allowed", 200,
                "10.0.0." + (i % 250), null);
    }

    static AuditEvent read(int i) {
        return read(i, i % 2 == 0 ? "spiffe://tresor.local/ns/openemr/sa/openemr" : "alice", "db/openemr");
    }

    /** Writes {@code n} events to a new log and closes it (so the log ends with the close record). */
    static void writeClosedLog(Path log, LocalKeyProvider kek, int n) throws IOException {
        try (FileAuditSink sink = new FileAuditSink(log, kek, Duration.ofMillis(5))) {
            for (int i = 1; i <= n; i++) {
                sink.append(read(i));
            }
        }
    }

    static List<String> lines(Path file) throws IOException {
        return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    static void writeLines(Path file, List<String> lines) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            out.append(line).append('\n');
        }
        Files.writeString(file, out, StandardCharsets.UTF_8);
    }
}
