package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.Pkcs11KeyProvider;
import dev.tresor.testkit.SoftHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tresor key init --pkcs11 on a real SoftHSM2 token (SOFTHSM2_CONF set for this module's surefire
 * JVM in its pom; the token is initialised here in a temporary folder).
 */
class KeyInitCliTest {

    private static final String PIN = "2468";

    @TempDir
    Path tmp;

    @Test
    void createsANonExtractableTokenKeyPrintsItsConfigAndRefusesToReplaceIt() throws Exception {
        SoftHsm hsm = SoftHsm.start("tresor-cli-test", PIN);
        Path pin = tmp.resolve("hsm.pin");
        Files.writeString(pin, PIN + "\n", StandardCharsets.UTF_8);
        String[] args = {"key", "init", "--pkcs11", "--library", hsm.library().toString(), "--slot",
                Long.toString(hsm.slot()), "--key-label", "cli-kek", "--pin-file", pin.toString()};

        CliHarness.Run created = CliHarness.run(Map.of(), tmp, args);
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.err()).contains("created KEK pkcs11:cli-kek");
        assertThat(created.out()).isEqualTo("keyProvider:\n  kind: pkcs11\n  library: " + hsm.library() + "\n  slot: "
                + hsm.slot() + "\n  keyLabel: cli-kek\n  pinFile: " + pin + "\n");
        Pkcs11KeyProvider kek = Pkcs11KeyProvider.open(new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null,
                "cli-kek"), Pkcs11KeyProvider.Pin.fromFile(pin), Map.of());
        assertThat(kek.keyId()).isEqualTo("pkcs11:cli-kek");

        CliHarness.Run again = CliHarness.run(Map.of(), tmp, args);
        assertThat(again.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(again.err()).contains("already holds a key labelled 'cli-kek'").contains("refusing to replace it");

        CliHarness.Run fromEnv = CliHarness.run(Map.of("HSM_PIN", PIN), tmp, "key", "init", "--pkcs11", "--library",
                hsm.library().toString(), "--slot-list-index", "0", "--key-label", "cli-kek-2", "--pin-env", "HSM_PIN");
        assertThat(fromEnv.exitCode()).as(fromEnv.err()).isZero();
        assertThat(fromEnv.out()).contains("  slotListIndex: 0\n").contains("  pinEnv: HSM_PIN\n").doesNotContain(PIN);

        CliHarness.Run noPin = CliHarness.run(Map.of(), tmp, "key", "init", "--pkcs11", "--library",
                hsm.library().toString(), "--key-label", "x");
        assertThat(noPin.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(noPin.err()).contains("--pin-file").contains("--pin-env");
    }

    @Test
    void checksAnAwsKmsKeyAsTheServerWillAndPrintsItsConfig() {
        try (dev.tresor.testkit.kms.LocalKms kms = dev.tresor.testkit.kms.LocalKms.start("eu-north-1")) {
            String arn = kms.createKey();
            kms.alias("alias/cli-kek", arn);
            CliHarness.Run checked = CliHarness.run(kms.environment(), tmp, "key", "init", "--awskms", "--key-id",
                    "alias/cli-kek", "--region", kms.region(), "--endpoint", kms.endpoint().toString());
            assertThat(checked.exitCode()).as(checked.err()).isZero();
            assertThat(checked.err()).contains("KEK awskms:" + arn + " works");
            assertThat(checked.out()).isEqualTo("keyProvider:\n  kind: awskms\n  keyId: \"alias/cli-kek\"\n  region: "
                    + kms.region() + "\n  endpoint: \"" + kms.endpoint() + "\"\n");

            kms.denyAccess(true);
            CliHarness.Run denied = CliHarness.run(kms.environment(), tmp, "key", "init", "--awskms", "--key-id",
                    "alias/cli-kek", "--region", kms.region(), "--endpoint", kms.endpoint().toString());
            assertThat(denied.exitCode()).isEqualTo(ExitCodes.ERROR);
            assertThat(denied.err()).contains("denied access").contains("kms:Decrypt");

            CliHarness.Run both = CliHarness.run(kms.environment(), tmp, "key", "init", "--awskms", "--key-id", "k",
                    "--pkcs11", "--library", "/x.so", "--key-label", "l", "--pin-env", "P");
            assertThat(both.exitCode()).isEqualTo(ExitCodes.USAGE);
        }
    }
}
