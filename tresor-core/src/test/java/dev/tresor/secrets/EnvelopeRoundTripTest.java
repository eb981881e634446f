package dev.tresor.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.Tresor;
import dev.tresor.crypto.Envelope;
import dev.tresor.crypto.InternalKey;
import dev.tresor.crypto.LocalKeyProvider;
import dev.tresor.integrity.IntegrityMonitor;
import dev.tresor.integrity.RowSeals;
import dev.tresor.store.Store;
import dev.tresor.store.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The encryption path every secret value takes, in isolation: a wrapped key must unwrap with the
 * KEK that wrapped it, and Tresor must re-open a store it created. When this fails, every test that
 * opens a {@link Tresor} fails with "the key provider's KEK cannot unwrap this store's keys".
 */
class EnvelopeRoundTripTest {

    @TempDir
    Path tmp;

    @Test
    void aValueSealedUnderAGroupListOpensUnderItAndOnlyUnderIt() throws GeneralSecurityException {
        Envelope envelope = new Envelope(LocalKeyProvider.create(tmp.resolve("kek.json")));
        byte[] keyContext = RowSeals.keyContext("app/db", 1, List.of("g1"));
        byte[] valueContext = RowSeals.valueContext("app/db", 1);
        Envelope.Sealed sealed = envelope.seal("PW".getBytes(StandardCharsets.UTF_8), keyContext, valueContext);

        assertThat(envelope.open(sealed.wrappedKey(), sealed.ciphertext(), keyContext, valueContext))
                .isEqualTo("PW".getBytes(StandardCharsets.UTF_8));
        byte[] widened = RowSeals.keyContext("app/db", 1, List.of("g1", "g2"));
        assertThatThrownBy(() -> envelope.open(sealed.wrappedKey(), sealed.ciphertext(), widened, valueContext))
                .isInstanceOf(GeneralSecurityException.class);

        byte[] rewrapped = envelope.rewrap(sealed.wrappedKey(), keyContext, widened);
        assertThat(envelope.open(rewrapped, sealed.ciphertext(), widened, valueContext))
                .isEqualTo("PW".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> envelope.open(rewrapped, sealed.ciphertext(), keyContext, valueContext))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void theRowMacKeyUnwrapsWithTheKekThatWrappedIt() throws GeneralSecurityException {
        LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
        byte[] wrapped = InternalKey.newWrappedMacKey(kek, "row-mac");
        assertThat(InternalKey.unwrapMac(kek, "row-mac", wrapped)).isNotNull();
        assertThatThrownBy(() -> InternalKey.unwrapMac(kek, "audit", wrapped)).isInstanceOf(GeneralSecurityException.class);
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void tresorReopensTheStoreItCreated(TestDatabase.Kind kind) {
        LocalKeyProvider kek = LocalKeyProvider.create(tmp.resolve("kek.json"));
        try (TestDatabase db = kind.create(); Store store = db.open()) {
            Tresor.open(store, kek, IntegrityMonitor.NONE, Clock.systemUTC());
            Tresor.open(store, kek, IntegrityMonitor.NONE, Clock.systemUTC());
        }
    }
}
