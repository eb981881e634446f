package dev.tresor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.crypto.LocalKeyProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose key file is sealed by a passphrase and whose config names neither
 * keyProvider.passphraseFile nor passphraseEnv asks for it on the terminal (java.io.Console, no
 * echo): started in a real pseudo-terminal ({@code script} from util-linux), it starts with the
 * typed passphrase and refuses a wrong one; started with no terminal, it refuses naming the two
 * config fields. Each start is a fresh JVM ({@link ServerStartChild}), as a real start is.
 */
class TerminalPassphraseTest {

    private static final String PASSPHRASE = "typed on the terminal, long enough";

    @TempDir
    Path dir;

    private List<String> child(Path config) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ServerStartChild.class.getName(), config.toString()));
        return command;
    }

    /** Runs the start in a pseudo-terminal; types {@code typed} once the prompt shows. Returns everything printed. */
    private String startOnATerminal(Path config, String typed) throws Exception {
        String inner = String.join(" ", child(config).stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
        Process script = new ProcessBuilder("script", "-qec", inner, "/dev/null").redirectErrorStream(true).start();
        InputStream out = script.getInputStream();
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        while (!seen.toString(StandardCharsets.UTF_8).contains("Passphrase for key file ")) {
            int b = out.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
        }
        // Typed only once the prompt is up, i.e. once the terminal no longer echoes.
        script.getOutputStream().write((typed + "\n").getBytes(StandardCharsets.UTF_8));
        script.getOutputStream().flush();
        seen.write(out.readAllBytes());
        assertThat(script.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return seen.toString(StandardCharsets.UTF_8);
    }

    private String startWithoutATerminal(Path config) throws IOException, InterruptedException {
        Process child = new ProcessBuilder(child(config)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        child.getOutputStream().close();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return out.strip();
    }

    @Test
    void aSealedKeyFileWithNoPassphraseSourceIsAskedForOnTheTerminalAndRefusedWithoutOne() throws Exception {
        Path config;
        try (ServerFixture f = ServerFixture.start(dir, ServerFixture.StoreKind.SQLITE)) {
            f.stopServer();
            config = dir.resolve("tresor.yaml");
        }
        String keyId = LocalKeyProvider.load(dir.resolve("kek.json")).keyId();
        LocalKeyProvider.reseal(dir.resolve("kek.json"), null, PASSPHRASE.toCharArray());
        assertThat(Files.readString(config)).doesNotContain("passphrase");

        String started = startOnATerminal(config, PASSPHRASE);
        assertThat(started).contains("Passphrase for key file " + dir.resolve("kek.json")).contains("started")
                .doesNotContain(PASSPHRASE); // no echo
        assertThat(LocalKeyProvider.load(dir.resolve("kek.json"), PASSPHRASE.toCharArray()).keyId()).isEqualTo(keyId);

        String wrong = startOnATerminal(config, "not the passphrase at all");
        assertThat(wrong).contains("refused").contains("the passphrase does not open key file")
                .contains("the terminal").doesNotContain("not the passphrase at all").doesNotContain("started");

        String noTerminal = startWithoutATerminal(config);
        assertThat(noTerminal).startsWith("refused").contains("is sealed by a passphrase").contains("no terminal")
                .contains("keyProvider.passphraseFile").contains("keyProvider.passphraseEnv");
    }
}
