package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.server.bootstrap.ConfigEdits;
import dev.tresor.server.config.ConfigException;
import org.junit.jupiter.api.Test;

/** ConfigEdits.withKeyProviderBlock, which tresor key migrate uses to put another provider's block in the config. */
class ConfigEditsTest {

    private static final String CONFIG = """
            trustDomain: tresor.test   # the operator's comment
            keyProvider:
              kind: local
              # the old key file
              path: kek.json

            # audit sinks follow
            audit:
              sinks:
                - kind: file
                  path: audit.log
            """;

    @Test
    void replacesOnlyTheKeyProviderBlockAndKeepsEverythingAroundIt() {
        String spec = "# made by tresor key init\nkeyProvider:\n  kind: pkcs11\n  library: /usr/lib/softhsm/libsofthsm2.so\n"
                + "  keyLabel: tresor-kek-1\n  pinFile: hsm.pin\n";
        assertThat(ConfigEdits.withKeyProviderBlock(CONFIG, spec)).isEqualTo(CONFIG.replace(
                "  kind: local\n  # the old key file\n  path: kek.json\n",
                "  kind: pkcs11\n  library: /usr/lib/softhsm/libsofthsm2.so\n  keyLabel: tresor-kek-1\n  pinFile: hsm.pin\n"));
        assertThat(CONFIG).contains("  # the old key file\n"); // the replacement above did match
    }

    @Test
    void aSpecThatIsNotJustAKeyProviderBlockIsRefusedSayingWhatToGive() {
        assertThatThrownBy(() -> ConfigEdits.withKeyProviderBlock(CONFIG, "kind: local\npath: k.json\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no top-level 'keyProvider:' block")
                .hasMessageContaining("tresor key init");
        assertThatThrownBy(() -> ConfigEdits.withKeyProviderBlock(CONFIG, "keyProvider:\n  kind: local\n  path: k.json\n"
                + "store:\n  kind: sqlite\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("more than a keyProvider block (line 4: 'store:')");
        assertThatThrownBy(() -> ConfigEdits.withKeyProviderBlock(CONFIG, "keyProvider:\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("keyProvider block is empty");
        assertThatThrownBy(() -> ConfigEdits.withKeyProviderBlock("store:\n  kind: sqlite\n", "keyProvider:\n  kind: local\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no top-level 'keyProvider:' block found in the config");
    }
}
