package dev.tresor.crypto;

import com.google.crypto.tink.Configuration;
import com.google.crypto.tink.ConfigurationV0;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.mac.MacConfig;
import java.security.GeneralSecurityException;

/** Registers the Tink key types Tresor uses, once, and names the primitive configuration. */
public final class TinkRuntime {

    private static final Configuration CONFIGURATION;

    static {
        try {
            AeadConfig.register();
            MacConfig.register();
            CONFIGURATION = ConfigurationV0.get();
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private TinkRuntime() {}

    /** Makes sure the key types are registered before keys are generated or parsed. */
    public static void ensureRegistered() {
        // The static initialiser does the work; this call only forces class initialisation.
    }

    /** The configuration used to obtain primitives; calling this also ensures registration. */
    public static Configuration configuration() {
        return CONFIGURATION;
    }
}
