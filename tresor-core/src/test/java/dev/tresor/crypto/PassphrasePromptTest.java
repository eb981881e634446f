package dev.tresor.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The terminal source of a sealed key file's passphrase: asked once per key file and process, kept
 * across re-reads of the config, asked again after {@link Passphrase#forget}; no terminal, or
 * nothing typed, is refused with a message naming the config fields that fix it.
 */
class PassphrasePromptTest {

    /** A terminal that answers from a list and records the prompts it showed. */
    private static final class FakeTerminal implements Passphrase.Terminal {
        final List<String> prompts = new ArrayList<>();
        final List<String> answers;
        final boolean present;

        FakeTerminal(boolean present, String... answers) {
            this.present = present;
            this.answers = new ArrayList<>(List.of(answers));
        }

        @Override
        public boolean available() {
            return present;
        }

        @Override
        public char[] readPassword(String prompt) {
            prompts.add(prompt);
            return answers.isEmpty() ? null : answers.removeFirst().toCharArray();
        }
    }

    private static String keyFile() {
        return "key file /etc/tresor/" + UUID.randomUUID() + ".json";
    }

    @Test
    void asksOncePerKeyFileAndAgainOnlyAfterAWrongOneIsForgotten() {
        String what = keyFile();
        FakeTerminal terminal = new FakeTerminal(true, "first passphrase typed", "second passphrase typed");
        Passphrase one = Passphrase.fromTerminal(what, terminal);
        assertThat(one.source()).contains("the terminal").contains("keyProvider.passphraseFile");
        assertThat(new String(one.read(Map.of()))).isEqualTo("first passphrase typed");
        // The config read again (a CA rollover, a KEK rotation) does not ask again.
        assertThat(new String(Passphrase.fromTerminal(what, terminal).read(Map.of()))).isEqualTo("first passphrase typed");
        assertThat(terminal.prompts).containsExactly("Passphrase for " + what + ": ");
        // Each read is a copy the caller may zero.
        char[] copy = one.read(Map.of());
        java.util.Arrays.fill(copy, '\0');
        assertThat(new String(one.read(Map.of()))).isEqualTo("first passphrase typed");

        one.forget();
        assertThat(new String(one.read(Map.of()))).isEqualTo("second passphrase typed");
        assertThat(terminal.prompts).hasSize(2);
    }

    @Test
    void withoutATerminalOrWithNothingTypedTheReadIsRefusedNamingTheFix() {
        String what = keyFile();
        assertThatThrownBy(() -> Passphrase.fromTerminal(what, new FakeTerminal(false)).read(Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(what + " is sealed by a passphrase").hasMessageContaining("no terminal")
                .hasMessageContaining("keyProvider.passphraseFile").hasMessageContaining("keyProvider.passphraseEnv");
        assertThatThrownBy(() -> Passphrase.fromTerminal(what, new FakeTerminal(true)).read(Map.of()))
                .hasMessageContaining("no passphrase was entered on the terminal for " + what);
        assertThatThrownBy(() -> Passphrase.fromTerminal(what, new FakeTerminal(true, "")).read(Map.of()))
                .hasMessageContaining("no passphrase was entered");
        // Nothing was kept: a terminal that answers later is asked.
        assertThat(new String(Passphrase.fromTerminal(what, new FakeTerminal(true, "typed at last, long")).read(Map.of())))
                .isEqualTo("typed at last, long");
    }

    @Test
    void exactlyOneSourceIsGiven() {
        assertThatThrownBy(() -> new Passphrase(null, null, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the terminal");
        assertThatThrownBy(() -> new Passphrase(java.nio.file.Path.of("p"), "V")).isInstanceOf(IllegalArgumentException.class);
    }
}
