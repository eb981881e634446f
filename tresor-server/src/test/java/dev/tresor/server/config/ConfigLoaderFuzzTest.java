package dev.tresor.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;

/**
 * Fuzzes the server config YAML: a bad file must be refused with a {@link ConfigException} (a
 * message naming the field), never another exception. The folder holds the files a good config
 * names, so the fuzzer reaches past the file checks. Seeds:
 * src/test/resources/dev/tresor/server/config/ConfigLoaderFuzzTestInputs/parse/.
 *
 * <p>Inputs whose listen addresses name a host (not an IP literal or localhost) are skipped: the
 * loader resolves them, and a fuzzer must not send DNS queries off this machine. Inputs naming a
 * password file outside the folder are skipped too (no reading of arbitrary files).
 */
class ConfigLoaderFuzzTest {

    private static final ObjectMapper SAME_AS_LOADER = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final Path base = folder();

    @FuzzTest(maxDuration = "10s")
    void parse(byte[] input) {
        String yaml = new String(input, StandardCharsets.UTF_8);
        if (wouldLeaveTheFolderOrMachine(yaml)) {
            return;
        }
        try {
            ServerSettings s = ConfigLoader.parse(yaml, base);
            assertThat(s.apiAddress()).isNotNull();
            assertThat(s.auditFiles()).isNotEmpty();
            assertThat(s.tlsProtocols()).isNotEmpty().allMatch(p -> p.equals("TLSv1.3") || p.equals("TLSv1.2"));
            assertThat(s.maxBodyBytes()).isBetween(1024, 64 * 1024 * 1024);
        } catch (ConfigException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    private boolean wouldLeaveTheFolderOrMachine(String yaml) {
        ConfigFile c;
        try {
            c = SAME_AS_LOADER.readValue(yaml, ConfigFile.class);
        } catch (Exception e) {
            return false; // the loader fails the same way before resolving anything
        }
        if (c == null) {
            return false;
        }
        if (c.listen() != null && (namesAHost(c.listen().api()) || namesAHost(c.listen().management()))) {
            return true;
        }
        return c.store() != null && c.store().passwordFile() != null
                && !base.resolve(c.store().passwordFile()).normalize().startsWith(base);
    }

    private static boolean namesAHost(String hostPort) {
        if (hostPort == null || hostPort.lastIndexOf(':') < 0) {
            return false;
        }
        String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || host.equals("localhost")) {
            return false;
        }
        try {
            InetAddress.ofLiteral(host);
            return false;
        } catch (IllegalArgumentException notALiteral) {
            return true;
        }
    }

    private static Path folder() {
        try {
            Path dir = Files.createTempDirectory("tresor-config-fuzz");
            for (String f : new String[] {"server.crt", "server.key", "ca.crt", "ca.key", "kek.json", "pg-password"}) {
                Files.writeString(dir.resolve(f), "placeholder\n");
            }
            return dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterEach
    void removeFolder() throws IOException {
        try (var files = Files.list(base)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(base);
    }
}
