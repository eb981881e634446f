package dev.tresor.bench;

import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;

/**
 * A server data folder made by {@code tresor init}: where its admin credentials and CA are, and
 * how to issue more client certificates from that CA (benchmarks need many identities).
 */
record DataDir(Path dir) {

    /** Paths of one client's certificate, key and the CA bundle. */
    record Credentials(Path cert, Path key, Path ca, String identity) {}

    /** Where {@code bench/lib.sh} has {@code tresor init} put the admin: DIR-admin beside DIR (tresor dev: DIR/clients). */
    Credentials admin() {
        Path beside = dir.resolveSibling(dir.getFileName() + "-admin");
        Path clients = java.nio.file.Files.isDirectory(beside) ? beside : dir.resolve("clients");
        return new Credentials(clients.resolve("admin.crt"), clients.resolve("admin.key"), clients.resolve("ca.crt"), null);
    }

    Path caCert() {
        return dir.resolve("ca.crt");
    }

    /** Issues a client certificate for {@code identity} under {@code out/NAME.crt|.key}. */
    Credentials issueClient(String name, String identity, Path out) {
        CertificateAuthority ca = CertificateAuthority.load(dir.resolve("ca.crt"), dir.resolve("ca.key"),
                dev.tresor.crypto.LocalKeyProvider.load(dir.resolve("kek.json")), Clock.systemUTC());
        KeyPair keys = KeyPairs.generateP256();
        IssuedCertificate issued = ca.issueClient(keys.getPublic(), identity, Duration.ofDays(7));
        Path cert = out.resolve(name + ".crt");
        Path key = out.resolve(name + ".key");
        Pem.writeCertificates(cert, issued.chain());
        Pem.writePrivateKey(key, keys.getPrivate());
        return new Credentials(cert, key, caCert(), identity);
    }

    /** The SPIFFE identity Tresor's CA gives a client called {@code name}. */
    String identityOf(String name) {
        CertificateAuthority ca = CertificateAuthority.load(dir.resolve("ca.crt"), dir.resolve("ca.key"),
                dev.tresor.crypto.LocalKeyProvider.load(dir.resolve("kek.json")), Clock.systemUTC());
        return "spiffe://" + ca.trustDomain() + "/client/" + name;
    }

    Endpoint endpoint(Credentials c, int port) {
        return Endpoint.of("127.0.0.1", port, c.cert(), c.key(), c.ca(), "TLSv1.3", "TLS_AES_128_GCM_SHA256");
    }
}
