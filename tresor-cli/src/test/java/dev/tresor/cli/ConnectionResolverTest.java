package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where each connection setting comes from: flags, then environment, then the profile. */
class ConnectionResolverTest {

    @TempDir
    Path home;

    private ConnectionSettings resolve(Map<String, String> env, ConnectionFlags flags) {
        CliContext base = CliHarness.context(env, home, new ByteArrayOutputStream(), new ByteArrayOutputStream());
        CliContext context = new CliContext(base.env(), base.home(), base.stdin(), base.out(), base.err(), null,
                base.clock(), flags);
        return new ConnectionResolver(context).resolve();
    }

    private static Map<String, String> fullEnv(String prefix) {
        return Map.of("TRESOR_ADDR", "https://" + prefix + ".example:1", "TRESOR_CERT", "/" + prefix + "/c.crt",
                "TRESOR_KEY", "/" + prefix + "/c.key", "TRESOR_CA", "/" + prefix + "/ca.crt");
    }

    private Path profile(String text) throws IOException {
        Path dir = Files.createDirectories(home.resolve(".tresor"));
        return Files.writeString(dir.resolve("profile.yaml"), text);
    }

    @Test
    void flagsBeatEnvironmentWhichBeatsTheProfile() throws IOException {
        profile("addr: https://profile.example:3\ncert: p.crt\nkey: p.key\nca: p-ca.crt\n");
        ConnectionFlags flags = new ConnectionFlags();
        flags.address("https://flag.example:2");
        Map<String, String> env = new HashMap<>(fullEnv("env"));
        env.remove("TRESOR_CA");

        ConnectionSettings settings = resolve(env, flags);

        assertThat(settings.address().value()).isEqualTo(URI.create("https://flag.example:2"));
        assertThat(settings.address().source()).isEqualTo("--addr");
        assertThat(settings.cert().value()).isEqualTo(Path.of("/env/c.crt"));
        assertThat(settings.cert().source()).isEqualTo("TRESOR_CERT");
        assertThat(settings.ca().value()).isEqualTo(home.resolve(".tresor/p-ca.crt"));
        assertThat(settings.ca().source()).startsWith("ca in ");
    }

    @Test
    void environmentAloneIsEnough() {
        ConnectionSettings settings = resolve(fullEnv("env"), new ConnectionFlags());
        assertThat(settings.key().value()).isEqualTo(Path.of("/env/c.key"));
        assertThat(settings.key().source()).isEqualTo("TRESOR_KEY");
    }

    @Test
    void missingSettingsAreAUsageErrorNamingTheVariables() {
        assertThatThrownBy(() -> resolve(Map.of("TRESOR_CERT", "/x.crt", "TRESOR_KEY", "/x.key"), new ConnectionFlags()))
                .isInstanceOfSatisfying(CliException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
                    assertThat(e.getMessage()).contains("set TRESOR_ADDR, TRESOR_CA").doesNotContain("TRESOR_CERT,");
                });
    }

    @Test
    void blankEnvironmentValuesCountAsMissing() {
        Map<String, String> env = new HashMap<>(fullEnv("env"));
        env.put("TRESOR_ADDR", "  ");
        assertThatThrownBy(() -> resolve(env, new ConnectionFlags()))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.getMessage()).contains("TRESOR_ADDR"));
    }

    @Test
    void profileFromFlagThenVariableThenHome() throws IOException {
        profile("addr: https://home.example:1\ncert: h.crt\nkey: h.key\nca: h-ca.crt\n");
        Path other = Files.writeString(home.resolve("other.yaml"),
                "# comment\naddr: \"https://other.example:9\"   # trailing comment\ncert: 'o.crt'\nkey: ~/keys/o.key\nca: /abs/ca.crt\n");

        assertThat(resolve(Map.of(), new ConnectionFlags()).address().value().getHost()).isEqualTo("home.example");
        assertThat(resolve(Map.of("TRESOR_PROFILE", other.toString()), new ConnectionFlags()).address().value().getHost())
                .isEqualTo("other.example");

        ConnectionFlags flags = new ConnectionFlags();
        flags.profile(other.toString());
        ConnectionSettings fromFlag = resolve(Map.of("TRESOR_PROFILE", "/does/not/matter"), flags);
        assertThat(fromFlag.cert().value()).isEqualTo(home.resolve("o.crt"));
        assertThat(fromFlag.key().value()).isEqualTo(home.resolve("keys/o.key"));
        assertThat(fromFlag.ca().value()).isEqualTo(Path.of("/abs/ca.crt"));
    }

    @Test
    void anExplicitProfileMustExist() {
        assertThatThrownBy(() -> resolve(Map.of("TRESOR_PROFILE", home.resolve("nope.yaml").toString()), new ConnectionFlags()))
                .isInstanceOfSatisfying(CliException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
                    assertThat(e.getMessage()).contains("nope.yaml").contains("TRESOR_PROFILE");
                });
    }

    @Test
    void unknownProfileKeysAreRefused() throws IOException {
        profile("addr: https://x:1\nserver: nope\n");
        assertThatThrownBy(() -> resolve(Map.of(), new ConnectionFlags()))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.getMessage()).contains("line 2").contains("'server'"));
    }

    @Test
    void profilesAreYamlAndEveryMistakeNamesItsLine() throws IOException {
        profile("# made by hand\n---\naddr: \"https://q.example:9\"   # quoted\ncert: 'c.crt'\nkey: k#1.key\nca: ~/ca.crt\n");
        ConnectionSettings settings = resolve(Map.of(), new ConnectionFlags());
        assertThat(settings.address().value().getHost()).isEqualTo("q.example");
        assertThat(settings.cert().value().toString()).endsWith("/c.crt");
        assertThat(settings.key().value().toString()).endsWith("/k#1.key");
        assertThat(settings.ca().value()).isEqualTo(home.resolve("ca.crt"));

        for (var broken : Map.of(
                "addr: https://x:1\ncert: [a, b]\n", "line 2",
                "addr: https://x:1\nkey: k\nkey: other\n", "line 3",
                "addr: https://x:1\n  cert: c\n", "line 2",
                "addr: \"https://x:1\n", "line",
                "- addr\n", "line 1",
                "addr: https://x:1\n---\ncert: c\n", "line").entrySet()) {
            profile(broken.getKey());
            assertThatThrownBy(() -> resolve(Map.of(), new ConnectionFlags())).as(broken.getKey())
                    .isInstanceOfSatisfying(CliException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
                        assertThat(e.getMessage()).contains("profile.yaml").contains(broken.getValue());
                    });
        }
    }

    @Test
    void addressesAreNormalisedAndPlainHttpIsRefused() {
        assertThat(ConnectionResolver.address(new Setting<>("127.0.0.1:7443", "TRESOR_ADDR")))
                .isEqualTo(URI.create("https://127.0.0.1:7443"));
        assertThat(ConnectionResolver.address(new Setting<>("https://h:1/prefix/", "TRESOR_ADDR")))
                .isEqualTo(URI.create("https://h:1/prefix"));
        assertThatThrownBy(() -> ConnectionResolver.address(new Setting<>("http://h:1", "--addr")))
                .isInstanceOfSatisfying(CliException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
                    assertThat(e.getMessage()).startsWith("--addr").contains("https://");
                });
    }

    @Test
    void connectionFlagsWorkBeforeAndAfterTheSubcommand() {
        CliHarness.Run before = CliHarness.run(Map.of(), home, "--addr", "http://before:1", "whoami");
        CliHarness.Run after = CliHarness.run(Map.of(), home, "secret", "ls", "--addr", "http://after:1");
        assertThat(before.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(after.exitCode()).isEqualTo(ExitCodes.USAGE);
        // Missing cert/key/ca are reported first; with them present the bad address would be.
        assertThat(before.err()).contains("TRESOR_CERT").doesNotContain("TRESOR_ADDR,");
        assertThat(after.err()).contains("TRESOR_CERT").doesNotContain("TRESOR_ADDR,");
    }
}
