package dev.tresor.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * One audit event as a JSON object, for the sinks that ship records elsewhere (syslog, JSON
 * lines). The same fields as the file chain's records, without the chain (seq, prev, mac): those
 * belong to the file; a collector's copy is evidence of what happened, the chain of its integrity.
 */
final class EventJson {

    /** Writes into a caller's buffer, which it must not close. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private EventJson() {}

    static byte[] encode(AuditEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        write(e, out);
        return out.toByteArray();
    }

    /** Writes {@code e} as JSON into {@code out} (which is not closed). */
    static void write(AuditEvent e, OutputStream out) {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("time", e.time().toString());
            g.writeStringField("requestId", e.requestId());
            g.writeStringField("client", e.client());
            g.writeStringField("action", e.action());
            g.writeStringField("secret", e.secret());
            if (e.version() == null) {
                g.writeNullField("version");
            } else {
                g.writeNumberField("version", e.version());
            }
            g.writeStringField("outcome", e.outcome());
            g.writeNumberField("status", e.status());
            g.writeStringField("source", e.source());
            g.writeStringField("detail", e.detail());
            g.writeEndObject();
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write JSON into memory", ex);
        }
    }
}
