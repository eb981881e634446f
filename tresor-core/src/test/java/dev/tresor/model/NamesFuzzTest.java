package dev.tresor.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tresor.ca.Identities;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Fuzzes the grammars of what clients name: secret and group names, identities and durations: the only outcomes allowed are "accepted,
 * and the accepted name really has the documented shape" or a 400-style refusal. Seeds live in
 * src/test/resources/dev/tresor/model/NamesFuzzTestInputs/METHOD/ and run in every test run;
 * {@code JAZZER_FUZZ=1} (bench/fuzz.sh) fuzzes for real.
 */
class NamesFuzzTest {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Set<String> RESERVED = Set.of("versions", "labels", "restore");

    @FuzzTest(maxDuration = "10s")
    void secretName(byte[] input) {
        String name = new String(input, StandardCharsets.UTF_8);
        String accepted;
        try {
            accepted = Names.secret(name);
        } catch (TresorException e) {
            assertThat(e.failure()).isEqualTo(Failure.BAD_REQUEST);
            assertPrintable(e.getMessage());
            return;
        }
        assertThat(accepted).isEqualTo(name);
        assertThat(name.length()).isBetween(1, Names.MAX_SECRET_NAME);
        String[] segments = name.split("/", -1);
        for (String segment : segments) {
            assertThat(SEGMENT.matcher(segment).matches()).as("segment '%s' of '%s'", segment, name).isTrue();
            assertThat(segment).isNotIn(".", "..");
        }
        if (segments.length > 1) {
            assertThat(segments[segments.length - 1]).isNotIn(RESERVED);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void simpleName(byte[] input) {
        String name = new String(input, StandardCharsets.UTF_8);
        try {
            Names.group(name);
        } catch (TresorException e) {
            assertThat(e.failure()).isEqualTo(Failure.BAD_REQUEST);
            assertPrintable(e.getMessage());
            return;
        }
        assertThat(name).matches("[A-Za-z0-9._-]{1,64}").isNotIn(".", "..");
    }

    /** Client identities arrive in API bodies (client create, CA sign): refused cleanly or well-formed. */
    @FuzzTest(maxDuration = "10s")
    void identity(byte[] input) {
        String identity = new String(input, StandardCharsets.UTF_8);
        boolean accepted;
        try {
            Identities.validateIdentity(identity);
            accepted = true;
        } catch (IllegalArgumentException e) {
            accepted = false;
        }
        assertThat(Identities.identityProblem(identity).isEmpty()).isEqualTo(accepted);
        if (accepted && Identities.isUri(identity)) {
            assertThat(identity.length()).isLessThanOrEqualTo(Identities.MAX_URI_IDENTITY_LENGTH);
            assertThat(Identities.trustDomainOf(identity)).isNotBlank();
        }
    }

    /** Durations arrive from clients too ({@code ttl} in a PUT body, {@code since} in an audit query). */
    @FuzzTest(maxDuration = "10s")
    void duration(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        try {
            java.time.Duration d = Durations.parse("ttl", text);
            assertThat(d).isNotNull();
            assertThat(Durations.format(d)).isNotBlank();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).startsWith("ttl");
        }
    }

    /** Error messages quote the name through {@link Names#printable}: no control characters reach a client or a log. */
    private static void assertPrintable(String message) {
        assertThat(message.chars().noneMatch(c -> c < 0x20 || c == 0x7f)).as("message without control characters: %s", message)
                .isTrue();
    }
}
