package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tresor init --passphrase-file} and {@code tresor key passphrase}: the KEK file sealed by a
 * passphrase from the start or later, the config naming where it is read from, and the mistakes an
 * operator makes refused before anything is created.
 */
class KeyPassphraseCliTest {

    @TempDir
    Path tmp;

    private Path secret(String name, String text, String mode) throws Exception {
        Path file = tmp.resolve(name);
        Files.writeString(file, text + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    @Test
    void initSealsTheKekAndKeyPassphraseReSealsIt() throws Exception {
        Path pass = secret("kek.pass", "a passphrase of some length", "rw-------");
        Path data = tmp.resolve("data");
        CliHarness.Run init = CliHarness.run(Map.of(), tmp, "init", data.toString(), "--admin-out",
                tmp.resolve("admin").toString(), "--passphrase-file", pass.toString());
        assertThat(init.exitCode()).as(init.err()).isZero();
        assertThat(init.err()).contains("sealed kek.json by the passphrase in " + pass);
        Path keyFile = data.resolve("kek.json");
        assertThat(LocalKeyProvider.isSealed(keyFile)).isTrue();
        String config = Files.readString(data.resolve("tresor.yaml"));
        assertThat(config).contains("passphraseFile: \"" + pass + "\"").doesNotContain("a passphrase of");
        String kekId = LocalKeyProvider.load(keyFile, "a passphrase of some length".toCharArray()).keyId();

        CliHarness.Run changed = CliHarness.run(Map.of("NEW_KEK_PASS", "another passphrase, longer"), tmp, "key",
                "passphrase", "--config", data.resolve("tresor.yaml").toString(), "--new-passphrase-env", "NEW_KEK_PASS",
                "-o", "json");
        assertThat(changed.exitCode()).as(changed.err()).isZero();
        assertThat(changed.out()).contains("\"kekId\" : \"" + kekId + "\"").contains("\"wasSealed\" : true")
                .contains("keyProvider.passphraseEnv: NEW_KEK_PASS").doesNotContain("another passphrase");
        assertThat(LocalKeyProvider.load(keyFile, "another passphrase, longer".toCharArray()).keyId()).isEqualTo(kekId);

        // The old source named in the config is gone: without the variable the next change cannot open the key file.
        CliHarness.Run withoutOld = CliHarness.run(Map.of(), tmp, "key", "passphrase", "--config",
                data.resolve("tresor.yaml").toString(), "--new-passphrase-file", pass.toString());
        assertThat(withoutOld.exitCode()).isEqualTo(ExitCodes.ERROR);
        assertThat(withoutOld.err()).contains("NEW_KEK_PASS").contains("is not set").doesNotContain("\tat ");
    }

    @Test
    void badPassphraseFilesAreRefusedBeforeTheFolderIsMade() throws Exception {
        Path data = tmp.resolve("data");
        Path readable = secret("open.pass", "a passphrase of some length", "rw-r--r--");
        Path shortOne = secret("short.pass", "too short", "rw-------");
        for (Path bad : new Path[] {readable, shortOne, tmp.resolve("missing.pass")}) {
            CliHarness.Run run = CliHarness.run(Map.of(), tmp, "init", data.toString(), "--admin-out",
                    tmp.resolve("admin").toString(), "--passphrase-file", bad.toString());
            assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.USAGE);
            assertThat(run.err()).startsWith("tresor: --passphrase-file: ").doesNotContain("a passphrase of", "too short");
            assertThat(data).doesNotExist();
        }
        Files.createDirectories(data);
        Path inside = data.resolve("kek.pass");
        CliHarness.Run inFolder = CliHarness.run(Map.of(), tmp, "init", data.toString(), "--admin-out",
                tmp.resolve("admin").toString(), "--passphrase-file", inside.toString());
        assertThat(inFolder.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(inFolder.err()).contains("is inside the data folder");
    }
}
