package dev.tresor.server.bootstrap;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.Pem;
import dev.tresor.crypto.KeyProvider;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * CA key rollover with an overlap ({@code tresor ca rotate}), run while the server is stopped:
 * makes a new CA key and certificate for the same trust domain in place of {@code ca.cert} /
 * {@code ca.key}, keeps the old certificate as {@code ca-retired-<serial>.crt} (its key moved
 * aside to {@code ca-retired-<serial>.key}, no longer used) and lists it under
 * {@code ca.previous} with {@code trustUntil} = now + overlap (default: {@code ca.maxTtl} plus the
 * clock-skew allowance, so every certificate the old CA issued has expired by then). Until then
 * the server trusts both CAs and publishes both in its bundle; new issuance uses the new CA.
 */
public final class CaRotation {

    /** What a rotation did. */
    public record Result(X509Certificate newCa, X509Certificate retiredCa, Path retiredCertificate, Instant trustUntil) {}

    private CaRotation() {}

    public static Result rotate(Path config, Duration overlap, Clock clock) {
        ServerSettings s = ConfigLoader.load(config);
        if (s.caCert() == null) {
            throw new ConfigException("ca: this server has no built-in CA to rotate (ca.cert / ca.key)");
        }
        KeyProvider kek = s.openKeyProvider(System.getenv());
        CertificateAuthority old = CertificateAuthority.load(s.caCert(), s.caKey(), kek, clock);
        Duration keep = overlap != null ? overlap : s.caMaxTtl().plus(CertificateAuthority.CLOCK_SKEW_ALLOWANCE);
        if (keep.isNegative() || keep.isZero()) {
            throw new IllegalArgumentException("the overlap must be positive");
        }
        Instant trustUntil = clock.instant().plus(keep).truncatedTo(ChronoUnit.SECONDS);
        Duration validity = Duration.between(old.certificate().getNotBefore().toInstant(),
                old.certificate().getNotAfter().toInstant());
        CertificateAuthority fresh = CertificateAuthority.create(old.trustDomain(), validity, clock);
        String serial = old.certificate().getSerialNumber().toString(16);
        Path dir = s.caCert().getParent();
        Path retiredCert = dir.resolve("ca-retired-" + serial + ".crt");
        Path retiredKey = dir.resolve("ca-retired-" + serial + ".key");
        Path newCert = dir.resolve(s.caCert().getFileName() + ".new");
        Path newKey = dir.resolve(s.caKey().getFileName() + ".new");
        try {
            Files.deleteIfExists(newCert);
            Files.deleteIfExists(newKey);
            fresh.save(newCert, newKey, kek);
            Pem.writeCertificates(retiredCert, List.of(old.certificate()));
            String before = Files.readString(config, StandardCharsets.UTF_8);
            String after = withPrevious(before, config.toAbsolutePath().getParent().relativize(retiredCert.toAbsolutePath())
                    .toString(), trustUntil);
            writeAtomically(config, after);
            try {
                ConfigLoader.load(config);
            } catch (RuntimeException e) {
                writeAtomically(config, before);
                throw new IllegalStateException("the updated config does not load (" + e.getMessage() + "); left unchanged", e);
            }
            if (!s.clientCa().toAbsolutePath().normalize().equals(s.caCert().toAbsolutePath().normalize())) {
                // A separate client CA bundle must trust the new CA too (the retired one is trusted through ca.previous).
                List<X509Certificate> clientCas = new ArrayList<>(Pem.readCertificates(s.clientCa()));
                clientCas.add(fresh.certificate());
                Path temp = s.clientCa().resolveSibling(s.clientCa().getFileName() + ".new");
                Files.deleteIfExists(temp);
                Pem.writeCertificates(temp, clientCas);
                Files.move(temp, s.clientCa(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(s.caKey(), retiredKey, StandardCopyOption.ATOMIC_MOVE);
            Files.move(newKey, s.caKey(), StandardCopyOption.ATOMIC_MOVE);
            Files.move(newCert, s.caCert(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("CA rotation failed: " + e.getMessage(), e);
        }
        return new Result(fresh.certificate(), old.certificate(), retiredCert, trustUntil);
    }

    /** The config text with one more {@code ca.previous} entry (the {@code ca:} block must exist). */
    public static String withPrevious(String yaml, String certPath, Instant trustUntil) {
        List<String> lines = new ArrayList<>(List.of(yaml.split("\n", -1)));
        int ca = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).matches("ca:\\s*(#.*)?")) {
                ca = i;
                break;
            }
        }
        if (ca < 0) {
            throw new ConfigException("ca: no top-level 'ca:' block found in the config to add ca.previous to");
        }
        String indent = "  ";
        for (int i = ca + 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.trim().startsWith("#")) {
                continue;
            }
            indent = line.substring(0, line.length() - line.stripLeading().length());
            break;
        }
        if (indent.isEmpty()) {
            throw new ConfigException("ca: the 'ca:' block is empty");
        }
        String item = indent + indent + "- cert: " + certPath + "\n" + indent + indent + "  trustUntil: \"" + trustUntil + "\"";
        for (int i = ca + 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.isBlank() && !line.startsWith(indent) && !line.trim().startsWith("#")) {
                break; // end of the ca block
            }
            if (line.startsWith(indent + "previous:")) {
                lines.add(i + 1, item);
                return String.join("\n", lines);
            }
        }
        lines.add(ca + 1, indent + "# Retired CAs, trusted and published until trustUntil (tresor ca rotate).\n"
                + indent + "previous:\n" + item);
        return String.join("\n", lines);
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(file)); // the config may hold a password
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
