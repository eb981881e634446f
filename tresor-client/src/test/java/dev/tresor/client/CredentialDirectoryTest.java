package dev.tresor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialDirectoryTest {

    private static final String ID = "spiffe://tresor.test/ns/app/sa/db";
    private final TestIssuer issuer = new TestIssuer();

    @Test
    void installsLoadsAndSwapsWithTheKeyOwnerOnlyAndThePreviousVersionKept(@TempDir Path tmp) throws Exception {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        assertThat(dir.load()).isEmpty();
        Credentials first = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        dir.install(first);
        assertThat(dir.load().orElseThrow().serial()).isEqualTo(first.serial());
        assertThat(Files.isSymbolicLink(dir.keyFile())).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.keyFile().toRealPath())))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.dir()))).isEqualTo("rwx------");
        assertThat(KeyMaterial.parseCertificates(Files.readString(dir.bundleFile()))).containsExactly(issuer.ca());

        Credentials second = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        dir.install(second);
        Credentials third = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        dir.install(third);
        assertThat(dir.load().orElseThrow().serial()).isEqualTo(third.serial());
        // The stable paths follow the swap; the key read through them matches the certificate.
        PrivateKey key = KeyMaterial.parsePrivateKey(Files.readString(dir.keyFile()));
        X509Certificate cert = KeyMaterial.parseCertificates(Files.readString(dir.certificateFile())).getFirst();
        assertThat(KeyMaterial.matches(key, cert.getPublicKey())).isTrue();
        assertThat(cert.getSerialNumber()).isEqualTo(third.serialNumber());
        // Current and previous versions are kept, older ones removed; no temporary links are left.
        try (var entries = Files.list(dir.dir())) {
            List<String> names = entries.map(p -> p.getFileName().toString()).sorted().toList();
            assertThat(names.stream().filter(n -> n.startsWith("v-"))).hasSize(2)
                    .anyMatch(n -> n.startsWith("v-" + second.serial() + "-"))
                    .anyMatch(n -> n.startsWith("v-" + third.serial() + "-"));
            assertThat(names).noneMatch(n -> n.startsWith(".current-"));
        }
    }

    /**
     * Readers running through many swaps never see a key and a certificate that do not match,
     * when they resolve {@code current} once (as load() does).
     */
    @Test
    void aReaderNeverSeesAMismatchedPairDuringSwaps(@TempDir Path tmp) throws Exception {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        dir.install(issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600)));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> problem = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            int reads = 0;
            while (!stop.get() || reads < 50) {
                try {
                    dir.load().orElseThrow(); // Credentials' constructor checks the pair matches
                    reads++;
                } catch (Throwable t) {
                    problem.compareAndSet(null, t);
                    return;
                }
            }
        });
        for (int i = 0; i < 30; i++) {
            dir.install(issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600)));
        }
        stop.set(true);
        reader.join();
        assertThat(problem.get()).isNull();
    }

    @Test
    void aFailedInstallLeavesTheCurrentFilesUntouched(@TempDir Path tmp) throws Exception {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        Credentials good = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        dir.install(good);
        // A regular file where a stable symlink belongs stops the install before the swap...
        Files.delete(dir.bundleFile());
        Files.writeString(dir.bundleFile(), "in the way");
        Credentials next = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        assertThatThrownBy(() -> dir.install(next)).isInstanceOf(UncheckedIOException.class).hasMessageContaining("in the way");
        assertThat(dir.load().orElseThrow().serial()).isEqualTo(good.serial());
        try (var entries = Files.list(dir.dir())) {
            assertThat(entries.filter(p -> p.getFileName().toString().startsWith("v-"))).hasSize(1);
        }
        Files.delete(dir.bundleFile());
        // ...and a read-only folder stops it before: the last good credentials are still there.
        Credentials beforeReadOnly = dir.load().orElseThrow();
        Files.setPosixFilePermissions(dir.dir(), PosixFilePermissions.fromString("r-x------"));
        try {
            if (!Files.isWritable(dir.dir())) { // root ignores the mode bits
                assertThatThrownBy(() -> dir.install(issuer.credentials(ID, Instant.now(), Instant.now().plusSeconds(60))))
                        .isInstanceOf(UncheckedIOException.class);
            }
        } finally {
            Files.setPosixFilePermissions(dir.dir(), PosixFilePermissions.fromString("rwx------"));
        }
        assertThat(dir.load().orElseThrow().serial()).isEqualTo(beforeReadOnly.serial());
    }

    @Test
    void remembersTheServerAndItsCa(@TempDir Path tmp) {
        CredentialDirectory dir = new CredentialDirectory(tmp.resolve("id"));
        assertThat(dir.server()).isEmpty();
        dir.saveServer(new ServerEndpoint(java.net.URI.create("https://tresor.internal:8443"), List.of(issuer.ca())));
        ServerEndpoint server = dir.server().orElseThrow();
        assertThat(server.api().toString()).isEqualTo("https://tresor.internal:8443");
        assertThat(server.trust()).containsExactly(issuer.ca());
        assertThatThrownBy(() -> new ServerEndpoint(java.net.URI.create("http://x:1"), List.of(issuer.ca())))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ServerEndpoint(java.net.URI.create("https://x:1"), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no trust on first use");
    }

    @Test
    void credentialsRefuseAKeyOfAnotherCertificateAndHideTheKey() {
        Credentials a = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        Credentials b = issuer.credentials(ID, Instant.now().minusSeconds(60), Instant.now().plusSeconds(3600));
        assertThatThrownBy(() -> new Credentials(a.key(), b.chain(), b.trustBundle()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong");
        assertThat(a.toString()).contains(ID, a.serial()).contains("hidden");
        assertThat(a.identity()).isEqualTo(ID);
    }
}
