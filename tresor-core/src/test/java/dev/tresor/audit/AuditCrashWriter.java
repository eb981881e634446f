package dev.tresor.audit;

import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Child process for {@link AuditCrashTest}: appends records forever and prints "ack N" after each
 * append returns, until the test kills it with SIGKILL. Not a test itself.
 */
public final class AuditCrashWriter {

    private AuditCrashWriter() {}

    public static void main(String[] args) throws Exception {
        Path log = Path.of(args[0]);
        LocalKeyProvider kek = LocalKeyProvider.load(Path.of(args[1]));
        FileAuditSink sink = new FileAuditSink(log, kek); // never closed: the process is killed
        for (int i = 1; ; i++) {
            sink.append(new AuditEvent(Instant.now(), "crash-" + i, "alice", "secret.read", "db/x", 1, "allowed", 200,
                    "127.0.0.1", null));
            System.out.println("ack " + i);
            System.out.flush();
        }
    }
}
