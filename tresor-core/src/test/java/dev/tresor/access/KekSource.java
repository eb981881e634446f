package dev.tresor.access;

import dev.tresor.crypto.KeyProvider;
import dev.tresor.crypto.LocalKeyProvider;
import java.nio.file.Path;

/**
 * Where a test's KEKs come from, so that a suite written against the local key file also runs
 * with another provider (tresor-kms-aws runs the tamper suite with the awskms provider against
 * its local KMS server). Each call of {@link #create} is a new, distinct KEK.
 */
public interface KekSource {

    /** A new KEK; a key-file provider keeps it in {@code dir} under {@code name}. */
    KeyProvider create(Path dir, String name);

    /** The file holding the KEK's raw bytes, if this source keeps it in one (to check that no copy is stored); else null. */
    Path keyFile(Path dir, String name);

    /** A local key file per KEK ({@code NAME.json}), as the suites always used. */
    KekSource LOCAL = new KekSource() {
        @Override
        public KeyProvider create(Path dir, String name) {
            return LocalKeyProvider.create(keyFile(dir, name));
        }

        @Override
        public Path keyFile(Path dir, String name) {
            return dir.resolve(name + ".json");
        }
    };
}
