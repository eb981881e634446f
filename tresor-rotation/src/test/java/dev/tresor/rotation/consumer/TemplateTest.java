package dev.tresor.rotation.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.rotation.DbCredentials;
import dev.tresor.rotation.Slot;
import org.junit.jupiter.api.Test;

class TemplateTest {

    private static final DbCredentials HOSTILE = new DbCredentials("openemr_a", "p'a\\s\"s<&>\n", "db.internal", 3306, "openemr");

    @Test
    void filtersQuoteForPhpAndJsonAndNothingIsHtmlEscaped() {
        String out = Template.parse("t", "$pass = '{{ password | php }}'; {\"p\":\"{{password|json}}\"} {{host}}:{{port}} "
                + "{{ slot }} {{ password | raw }}").render(HOSTILE, Slot.B);
        assertThat(out).isEqualTo("$pass = 'p\\'a\\\\s\"s<&>\n'; {\"p\":\"p'a\\\\s\\\"s<&>\\u000a\"} db.internal:3306 B "
                + "p'a\\s\"s<&>\n");
    }

    @Test
    void mistakesAreRefusedAtLoadNamingTheLine() {
        assertThatThrownBy(() -> Template.parse("consumers[0].template", "line one\n{{ username }}\n{{ pasword }}"))
                .hasMessageContaining("consumers[0].template line 3").hasMessageContaining("unknown placeholder {{pasword}}");
        assertThatThrownBy(() -> Template.parse("t", "a\n{{ password | shell }}"))
                .hasMessageContaining("t line 2").hasMessageContaining("shell");
        assertThatThrownBy(() -> Template.parse("t", "{{ password "))
                .hasMessageContaining("t line 1");
        assertThatThrownBy(() -> Template.parse("t", "no placeholder at all"))
                .hasMessageContaining("has no placeholder");
    }
}
