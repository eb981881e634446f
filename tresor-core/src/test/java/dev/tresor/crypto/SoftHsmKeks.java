package dev.tresor.crypto;

import dev.tresor.access.KekSource;
import dev.tresor.testkit.SoftHsm;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * KEKs for the core suites from a real SoftHSM2 token through SunPKCS11: each {@link #create} is a
 * new non-extractable AES-256 token key with a label of its own, on this JVM's shared token
 * ({@link SoftHsm#shared()}), opened with the PIN from an environment variable.
 */
public final class SoftHsmKeks implements KekSource {

    private static final AtomicLong NEXT = new AtomicLong();
    private static final String PIN_VARIABLE = "TRESOR_HSM_PIN";

    private final SoftHsm hsm;
    private final String prefix;

    /** Labels start with {@code prefix} (the test class), so two suites on the shared token never meet. */
    public SoftHsmKeks(String prefix) {
        try {
            this.hsm = SoftHsm.shared();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        this.prefix = prefix;
    }

    @Override
    public KeyProvider create(Path dir, String name) {
        Pkcs11KeyProvider.Settings settings = new Pkcs11KeyProvider.Settings(hsm.library(), hsm.slot(), null,
                prefix + "-" + name + "-" + NEXT.incrementAndGet());
        Pkcs11KeyProvider.Pin pin = Pkcs11KeyProvider.Pin.fromEnvironment(PIN_VARIABLE);
        Map<String, String> environment = Map.of(PIN_VARIABLE, hsm.userPin());
        Pkcs11KeyProvider.generateKey(settings, pin, environment);
        return Pkcs11KeyProvider.open(settings, pin, environment);
    }

    /** A token key has no bytes outside the token. */
    @Override
    public Path keyFile(Path dir, String name) {
        return null;
    }
}
