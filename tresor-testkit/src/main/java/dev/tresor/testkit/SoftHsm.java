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
 *
 * <p>Because of that, a JVM can use only the tokens that existed when it first loaded the library
 * (a token initialised later gets a slot id SoftHSM in this JVM calls invalid). A module with
 * several pkcs11 test classes in one surefire JVM therefore shares one token: {@link #shared()}
 * starts it once per JVM, and the classes tell their keys apart by label.
 */
public record SoftHsm(Path library, long slot, String userPin) {

    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");
    /** The user PIN of the {@link #shared()} token. */
    public static final String SHARED_PIN = "4711-pin";
    private static SoftHsm shared;
    private static boolean started;

    /** This JVM's one token (label {@code tresor-tests}, PIN {@link #SHARED_PIN}), started on first use. */
    public static synchronized SoftHsm shared() throws IOException, InterruptedException {
        if (shared == null) {
            shared = start("tresor-tests", SHARED_PIN);
        }
        return shared;
    }

    /** A fresh token in a fresh folder; once per JVM only (see the class comment): more classes use {@link #shared()}. */
    public static synchronized SoftHsm start(String tokenLabel, String userPin) throws IOException, InterruptedException {
        if (started) {
            throw new IllegalStateException("SoftHsm.start was already called in this JVM, whose SoftHSM library cannot "
                    + "see a token initialised after it was loaded: use SoftHsm.shared() in every pkcs11 test class");
        }
        started = true;
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
