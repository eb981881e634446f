package dev.tresor.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The audit writer encodes each event straight from its fields; the verifier re-derives the MAC
 * input from the parsed line with the generic {@link ChainCodec#canonical}. Both must agree byte
 * for byte, for every shape of event (nulls, non-ASCII, lone surrogates, overlong fields).
 */
class EventLineTest {

    private static final String[] STRINGS = {
        null, "", "secret.read", "spiffe://tresor.local/ns/a/sa/b", "ünïcödé ✓", "quote \" back\\slash \n newline",
        "lone \uD800 surrogate", "pair \uD83D\uDE00 emoji", "x".repeat(ChainCodec.MAX_FIELD_CHARS + 10), "\u0000\u001f"
    };

    @Test
    void directEncodingEqualsTheGenericFieldsCanonicalFormAndLine() throws Exception {
        Random random = new Random(42);
        for (int i = 0; i < 2_000; i++) {
            AuditEvent event = new AuditEvent(Instant.ofEpochMilli(random.nextLong(0, 4_102_444_800_000L)).plusNanos(random.nextInt(1_000_000)),
                    pick(random), pick(random), nonBlank(random), pick(random),
                    random.nextBoolean() ? null : random.nextInt(), nonBlank(random), random.nextInt(0, 600),
                    pick(random), pick(random));
            long seq = random.nextLong(1, Long.MAX_VALUE);
            String prev = random.nextBoolean() ? null : "prev-" + random.nextInt();
            ChainCodec.EventLine line = ChainCodec.EventLine.of(seq, prev, event);
            Map<String, Object> fields = ChainCodec.eventFields(seq, prev, event);

            assertThat(line.canonical()).isEqualTo(ChainCodec.canonical(ChainCodec.LINE_DOMAIN, fields));

            ByteArrayOutputStream generic = new ByteArrayOutputStream();
            ChainCodec.writeLine(generic, fields, ChainCodec.MAC, "the-mac");
            ByteArrayOutputStream direct = new ByteArrayOutputStream();
            try (JsonGenerator g = ChainCodec.lineGenerator(direct)) {
                line.write(g, "the-mac");
            }
            assertThat(direct.toByteArray()).isEqualTo(generic.toByteArray());

            byte[] bytes = direct.toByteArray();
            Map<String, Object> parsed = ChainCodec.parse(bytes, bytes.length - 1);
            parsed.remove(ChainCodec.MAC);
            assertThat(parsed).isEqualTo(fields);
        }
    }

    private static String pick(Random random) {
        return STRINGS[random.nextInt(STRINGS.length)];
    }

    private static String nonBlank(Random random) {
        String s = pick(random);
        return s == null || s.isBlank() ? "audit.x" : s;
    }
}
