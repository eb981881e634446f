package dev.tresor.crypto.awskms;

import dev.tresor.access.KekSource;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.testkit.kms.LocalKms;
import java.nio.file.Path;

/** KEKs for the core suites from the testkit's local KMS server: each {@link #create} is a new KMS key. */
public record LocalKmsKeks(LocalKms kms) implements KekSource {

    @Override
    public KeyProvider create(Path dir, String name) {
        return AwsKmsKeyProvider.open(new AwsKmsKeyProvider.Settings(kms.createKey(), kms.region(), kms.endpoint()),
                kms.environment());
    }

    /** A KMS key has no bytes outside the KMS. */
    @Override
    public Path keyFile(Path dir, String name) {
        return null;
    }
}
