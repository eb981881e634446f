package dev.tresor.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One audit event as a JSON object, for the sinks that ship records elsewhere (syslog, JSON
 * lines). The same fields as the file chain's records, without the chain (seq, prev, mac): those
 * belong to the file; a collector's copy is evidence of what happened, the chain of its integrity.
 */
final class EventJson {

    private static final JsonFactory JSON = new JsonFactory();

    private EventJson() {}

    static byte[] encode(AuditEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
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
        return out.toByteArray();
    }
}
