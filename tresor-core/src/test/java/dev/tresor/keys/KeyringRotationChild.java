package dev.tresor.keys;

import dev.tresor.Tresor;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Started by {@link KeyringRotationTest} as its own JVM: runs a begun keyring rotation one secret
 * per batch and, once 20 data keys are committed under the new primary, says so on stdout and
 * waits for the SIGKILL the test sends.
 */
public final class KeyringRotationChild {

    private KeyringRotationChild() {}

    public static void main(String[] args) throws Exception {
        Store store = Stores.open(StoreConfig.sqlite(Path.of(args[0])));
        Tresor tresor = Tresor.open(store, LocalKeyProvider.load(Path.of(args[1])), IntegrityMonitor.NONE, Clock.systemUTC());
        tresor.keyringRotation().finish(1, (done, unreadable) -> {
            if (done == 20) {
                System.out.println("rewrapped " + done);
                System.out.flush();
                try {
                    System.in.read(); // blocks until killed: the test never writes
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        System.out.println("finished");
    }
}
