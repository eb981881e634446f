package dev.tresor.ca;

import static dev.tresor.ca.TestCertificates.selfSigned;
import static dev.tresor.ca.TestCertificates.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentitiesTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "spiffe://tresor.local/ns/openemr/sa/openemr",
        "spiffe://example.org/a",
        "spiffe://a-b.c0/x_y/Z.9-",
        "alice",
        "backup-job_1.ops@example",
    })
    void acceptsWellFormedIdentities(String identity) {
        assertThat(Identities.validateIdentity(identity)).isEqualTo(identity);
        assertThat(Identities.identityProblem(identity)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "spiffe://x/../a",
        "spiffe://x/a/..",
        "spiffe://x/./a",
        "spiffe://X/a?b",
        "spiffe://x/a?b",
        "spiffe://x/a#frag",
        "spiffe://x/a%2e",
        "spiffe://user@x/a",
        "spiffe://x:8443/a",
        "spiffe://Tresor.local/a",
        "SPIFFE://x/a",
        "https://x/a",
        "urn:x:a",
        "spiffe://x",
        "spiffe://x/",
        "spiffe://x/a/",
        "spiffe://x//a",
        "spiffe:///a",
        "spiffe://-x/a",
        "spiffe://x..y/a",
        "spiffe://x/a b",
        "spiffe://x/é",
        "bob smith",
        "bob/smith",
        "bob\n",
        "CN=bob",
    })
    void rejectsMalformedIdentities(String identity) {
        assertThat(Identities.identityProblem(identity)).isPresent();
        assertThatThrownBy(() -> Identities.validateIdentity(identity))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("identity");
    }

    @Test
    void messagesSayWhatIsWrong() {
        assertThat(Identities.identityProblem("spiffe://x/../a")).get().asString().contains("'..'");
        assertThat(Identities.identityProblem("spiffe://X/a?b")).get().asString().contains("query");
        assertThat(Identities.identityProblem("spiffe://X/a")).get().asString().contains("lowercase");
        assertThat(Identities.identityProblem("spiffe://x:1/a")).get().asString().contains("port");
        assertThat(Identities.identityProblem("spiffe://u@x/a")).get().asString().contains("userinfo");
        assertThat(Identities.identityProblem("spiffe://x/a#b")).get().asString().contains("fragment");
        assertThat(Identities.identityProblem("https://x/a")).get().asString().contains("spiffe://");
    }

    @Test
    void rejectsEmptyAndNull() {
        assertThat(Identities.identityProblem("")).contains("identity is empty");
        assertThat(Identities.identityProblem(null)).contains("identity is empty");
        assertThatThrownBy(() -> Identities.validateIdentity("")).hasMessage("identity is empty");
    }

    @Test
    void rejectsTooLongIdentities() {
        String prefix = "spiffe://tresor.local/";
        String longestUri = prefix + "a".repeat(Identities.MAX_URI_IDENTITY_LENGTH - prefix.length());
        assertThat(Identities.identityProblem(longestUri)).isEmpty();
        assertThat(Identities.identityProblem(longestUri + "a")).get().asString().contains("longer than 2048");

        assertThat(Identities.identityProblem("a".repeat(64))).isEmpty();
        assertThat(Identities.identityProblem("a".repeat(65))).get().asString().contains("longer than 64");
    }

    @Test
    void classifiesUriAndCnForms() {
        assertThat(Identities.isUri("spiffe://tresor.local/a")).isTrue();
        assertThat(Identities.isUri("https://nope")).isTrue();
        assertThat(Identities.isUri("alice")).isFalse();
        assertThat(Identities.isUri(null)).isFalse();
    }

    @Test
    void extractsTrustDomain() {
        assertThat(Identities.trustDomainOf("spiffe://tresor.local/ns/a")).isEqualTo("tresor.local");
        assertThatThrownBy(() -> Identities.trustDomainOf("alice")).hasMessageContaining("is a CN");
        assertThatThrownBy(() -> Identities.validateTrustDomain("Tresor.Local")).hasMessageContaining("lowercase");
        assertThatThrownBy(() -> Identities.validateTrustDomain("tresor.local.")).hasMessageContaining("DNS-like");
    }

    @Test
    void identityOfPrefersUriSanOverCn() throws Exception {
        var cert = selfSigned("CN=openemr", uri("spiffe://tresor.local/ns/openemr/sa/openemr"),
                new GeneralName(GeneralName.dNSName, "openemr.local"));
        assertThat(Identities.identityOf(cert)).isEqualTo("spiffe://tresor.local/ns/openemr/sa/openemr");
    }

    @Test
    void identityOfFallsBackToCn() throws Exception {
        assertThat(Identities.identityOf(selfSigned("O=Tresor,CN=alice"))).isEqualTo("alice");
        // A DNS SAN is not an identity; the CN still is.
        assertThat(Identities.identityOf(selfSigned("CN=bob", new GeneralName(GeneralName.dNSName, "x.y")))).isEqualTo("bob");
    }

    @Test
    void identityOfRefusesCertificatesWithoutOrWithAmbiguousIdentity() throws Exception {
        assertThatThrownBy(() -> Identities.identityOf(selfSigned("O=Tresor")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither a URI subject alternative name nor a subject CN");
        assertThatThrownBy(() -> Identities.identityOf(selfSigned("CN=a,CN=b")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 CNs");
        assertThatThrownBy(() -> Identities.identityOf(selfSigned("CN=a",
                uri("spiffe://tresor.local/a"), uri("spiffe://tresor.local/admin"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 URI subject alternative names");
    }

    @Test
    void identityOfRefusesMalformedIdentities() throws Exception {
        assertThatThrownBy(() -> Identities.identityOf(selfSigned("CN=a", uri("spiffe://tresor.local/../admin"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid identity");
        assertThatThrownBy(() -> Identities.identityOf(selfSigned("CN=Tresor CA x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid identity");
    }
}
