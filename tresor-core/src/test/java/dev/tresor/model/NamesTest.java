package dev.tresor.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link Names#secret} checks names in one pass for speed; this holds it to the plain statement
 * of the grammar (split on '/', a regex per segment), verdict and message alike.
 */
class NamesTest {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Set<String> RESERVED = Set.of("versions", "labels", "restore");
    private static final String[] PIECES = {"a", "Z", "9", ".", "..", "_", "-", "/", "//", "%", " ", "\n", "é", "\u0000",
            "versions", "labels", "restore", "restor", "xversions", "db", "prod"};

    @Test
    void agreesWithTheGrammarOnRandomNames() {
        Random random = new Random(20261201);
        int accepted = 0;
        for (int n = 0; n < 200_000; n++) {
            StringBuilder name = new StringBuilder();
            int pieces = random.nextInt(8);
            for (int i = 0; i < pieces; i++) {
                name.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String expected = byGrammar(name.toString());
            String actual = outcome(name.toString());
            assertThat(actual).as("name '%s'", name).isEqualTo(expected);
            if (expected.equals("ok")) {
                accepted++;
            }
        }
        assertThat(accepted).as("the random names must include accepted ones").isGreaterThan(10_000);
    }

    @Test
    void edgeCases() {
        assertThat(Names.secret("a")).isEqualTo("a");
        assertThat(Names.secret("versions")).isEqualTo("versions"); // only a last segment after '/' is reserved
        assertThat(Names.secret("db/versions.bak")).isEqualTo("db/versions.bak");
        assertThat(Names.secret("a/.../b")).isEqualTo("a/.../b");
        assertThat(Names.secret("x".repeat(Names.MAX_SECRET_NAME))).hasSize(Names.MAX_SECRET_NAME);
        assertThatThrownBy(() -> Names.secret("x".repeat(Names.MAX_SECRET_NAME + 1))).hasMessageContaining("at most 255");
        assertThatThrownBy(() -> Names.secret("db/versions")).hasMessageContaining("reserved");
        assertThatThrownBy(() -> Names.secret("db/../etc")).hasMessageContaining("'..' segment");
        assertThatThrownBy(() -> Names.secret("db/.")).hasMessageContaining("'.' segment");
        assertThatThrownBy(() -> Names.secret("/db")).hasMessageContaining("empty segment");
        assertThatThrownBy(() -> Names.secret("db/")).hasMessageContaining("empty segment");
        assertThatThrownBy(() -> Names.secret("d%b")).hasMessageContaining("may only use");
        assertThatThrownBy(() -> Names.secret(null)).hasMessageContaining("empty");
    }

    private static String outcome(String name) {
        try {
            Names.secret(name);
            return "ok";
        } catch (TresorException e) {
            return e.getMessage();
        }
    }

    /** The grammar as first written: split, then per segment empty / dot / characters, in that order. */
    private static String byGrammar(String name) {
        if (name.isEmpty()) {
            return "secret name is empty";
        }
        if (name.length() > Names.MAX_SECRET_NAME) {
            return "secret name is " + name.length() + " characters; at most " + Names.MAX_SECRET_NAME + " are allowed";
        }
        String p = Names.printable(name);
        String[] segments = name.split("/", -1);
        if (segments.length > 1 && RESERVED.contains(segments[segments.length - 1])) {
            return "secret name '" + p + "' may not end in '/" + segments[segments.length - 1] + "': that word is reserved by the API";
        }
        for (String segment : segments) {
            if (segment.isEmpty()) {
                return "secret name '" + p + "' has an empty segment (leading, trailing or double '/')";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "secret name '" + p + "' contains a '" + segment + "' segment; names are not relative paths";
            }
            if (!SEGMENT.matcher(segment).matches()) {
                return "secret name '" + p + "' may only use letters, digits, '.', '_', '-' in segments joined by '/'";
            }
        }
        return "ok";
    }
}
