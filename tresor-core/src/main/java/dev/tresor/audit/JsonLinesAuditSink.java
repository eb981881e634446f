package dev.tresor.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Audit records as JSON lines on a stream, standard output in practice: in a container the
 * platform's log collector ships it to the SIEM. One line per record, flushed with it.
 */
public final class JsonLinesAuditSink implements AuditSink {

    private final OutputStream out;
    private final String name;
    private final ReentrantLock lock = new ReentrantLock();

    public JsonLinesAuditSink(OutputStream out, String name) {
        this.out = Objects.requireNonNull(out, "out");
        this.name = Objects.requireNonNull(name, "name");
    }

    @Override
    public void append(AuditEvent event) throws IOException {
        byte[] line = EventJson.encode(event);
        lock.lock();
        try {
            out.write(line);
            out.write('\n');
            out.flush();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** Flushes; the stream itself (standard output) belongs to the process. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            out.flush();
        } finally {
            lock.unlock();
        }
    }
}
