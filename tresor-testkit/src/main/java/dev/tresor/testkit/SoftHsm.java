package dev.tresor.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real SoftHSM2 token for tests. SoftHSM reads the file named by SOFTHSM2_CONF (set by the build
 * for the test JVM, see the surefire configuration in tresor-core/pom.xml and tresor-server/pom.xml) once, when the JVM first loads the library; so the
 * test class calls {@link #start} before any PKCS#11 use, which points it at a fresh temporary
 * token folder and initialises one token there with softhsm2-util.
 */
public record SoftHsm(Path library, long slot, String userPin) {

    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");

    public static SoftHsm start(String tokenLabel, String userPin) throws IOException, InterruptedException {
        String conf = System.getenv("SOFTHSM2_CONF");
        if (conf == null) {
            throw new IllegalStateException("SOFTHSM2_CONF is not set for the test JVM (the module's pom.xml sets it for "
                    + "surefire)");
        }
        Path confFile = Path.of(conf);
        Files.createDirectories(confFile.getParent());
        Path tokens = Files.createTempDirectory(confFile.getParent(), "tokens-");
        Files.writeString(confFile, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n",
                StandardCharsets.UTF_8);
        Process init = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", tokenLabel,
                "--so-pin", "so-" + userPin, "--pin", userPin)
                .redirectErrorStream(true).start();
        String out = new String(init.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!init.waitFor(60, TimeUnit.SECONDS) || init.exitValue() != 0) {
            throw new IllegalStateException("softhsm2-util --init-token failed: " + out);
        }
        Matcher m = SLOT.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("softhsm2-util printed no slot: " + out);
        }
        return new SoftHsm(LIBRARY, Long.parseLong(m.group(1)), userPin);
    }
}
