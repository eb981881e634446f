package dev.tresor.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.tunnel.tls.AllowList;
import dev.tresor.tunnel.tls.IdentityPattern;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdentityPatternTest {

    @Test
    void exactIdsMatchOnlyThemselves() {
        IdentityPattern p = IdentityPattern.parse("spiffe://tresor.local/ns/openemr/sa/openemr");
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/openemr")).isTrue();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/openemr2")).isFalse();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/openemr/x")).isFalse();
        assertThat(p.matches("spiffe://other.local/ns/openemr/sa/openemr")).isFalse();
        assertThat(p.matches("openemr")).isFalse();
    }

    @Test
    void starIsExactlyOneSegment() {
        IdentityPattern p = IdentityPattern.parse("spiffe://tresor.local/ns/openemr/sa/*");
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/openemr")).isTrue();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/a/b")).isFalse();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa")).isFalse();
        assertThat(p.matches("spiffe://tresor.local/ns/other/sa/openemr")).isFalse();
        IdentityPattern middle = IdentityPattern.parse("spiffe://tresor.local/ns/*/sa/redis");
        assertThat(middle.matches("spiffe://tresor.local/ns/a/sa/redis")).isTrue();
        assertThat(middle.matches("spiffe://tresor.local/ns/a/sa/mariadb")).isFalse();
    }

    @Test
    void doubleStarIsAnyDepthBelowThePrefix() {
        IdentityPattern p = IdentityPattern.parse("spiffe://tresor.local/ns/openemr/**");
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/sa/openemr")).isTrue();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr/x")).isTrue();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr")).isFalse();
        assertThat(p.matches("spiffe://tresor.local/ns/openemr-test/sa/x")).isFalse();
        assertThat(p.matches("spiffe://evil.local/ns/openemr/sa/x")).isFalse();
    }

    @Test
    void patternsThatReadWiderThanTheyAreAreRefused() {
        assertThatThrownBy(() -> IdentityPattern.parse("spiffe://*/ns/a")).hasMessageContaining("trust domain");
        assertThatThrownBy(() -> IdentityPattern.parse("spiffe://tresor.local/ns/sa-*")).hasMessageContaining("whole path segment");
        assertThatThrownBy(() -> IdentityPattern.parse("spiffe://tresor.local/**/sa")).hasMessageContaining("last segment");
        assertThatThrownBy(() -> IdentityPattern.parse("spiffe://tresor.local/ns/../x")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> IdentityPattern.parse("https://tresor.local/ns/x")).hasMessageContaining("spiffe://");
        assertThatThrownBy(() -> IdentityPattern.parse("spiffe://Tresor.local/ns/x")).hasMessageContaining("lowercase");
    }

    @Test
    void allowListNamesTheFieldAndTheEntry() {
        assertThatThrownBy(() -> AllowList.parse("--allow", List.of())).hasMessageStartingWith("--allow is required");
        assertThatThrownBy(() -> AllowList.parse("tunnels[0].allow", List.of("spiffe://tresor.local/a", "nope")))
                .hasMessageStartingWith("tunnels[0].allow[1]: ");
        AllowList list = AllowList.parse("--allow", List.of("spiffe://tresor.local/a", "spiffe://tresor.local/b/*"));
        assertThat(list.allows("spiffe://tresor.local/b/c")).isTrue();
        assertThat(list.allows("spiffe://tresor.local/c")).isFalse();
    }
}
