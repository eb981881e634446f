package dev.tresor.keys;

import dev.tresor.Tresor;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.store.Store;
import dev.tresor.store.StoreConfig;
import dev.tresor.store.Stores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Started by {@link KeyringCrashTest} as its own JVM: opens a pre-keyring SQLite store, which
 * starts the conversion, and in the middle of it (after the second data key moved, inside the
 * uncommitted transaction) says so on stdout and waits for the SIGKILL that the test sends.
 */
public final class ConversionChild {

    private ConversionChild() {}

    public static void main(String[] args) {
        Store store = Stores.open(StoreConfig.sqlite(Path.of(args[0])));
        Tresor.open(store, LocalKeyProvider.load(Path.of(args[1])), IntegrityMonitor.NONE, Clock.systemUTC(), done -> {
            if (done == 2) {
                System.out.println("half-way " + done);
                System.out.flush();
                try {
                    System.in.read(); // blocks until killed: the test never writes
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        System.out.println("finished");
    }
}
