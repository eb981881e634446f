package dev.tresor.cli;

import dev.tresor.client.CredentialDirectory;
import dev.tresor.client.Credentials;
import dev.tresor.client.IssuanceClient;
import dev.tresor.client.PinnedCa;
import dev.tresor.client.IssuanceException;
import dev.tresor.client.KeyMaterial;
import dev.tresor.client.ServerEndpoint;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "join", description = {
                "Trade a one-time join token for this workload's first certificate. The key is made here and never",
                "sent; the server's certificate is checked against --ca-bundle (no trust on first use).",
                "Writes DIR/key.pem, DIR/cert.pem, DIR/ca.pem (symlinks to a versioned folder, swapped atomically).",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor cert join --token-file /run/secrets/join --out /run/tresor/id \\",
                "      --server https://tresor.internal:8444 \\",
                "      --api https://tresor.internal:8443 \\",
                "      --ca-bundle /etc/tresor/server-ca.pem --profile workload",
        })
final class CertJoinCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "The join token ('-' reads it from standard input; prefer --token-file or TRESOR_JOIN_TOKEN:"
                    + " a command line is visible to other users).")
    private String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the join token.")
    private Path tokenFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the credentials.")
    private Path out;

    @Option(names = "--server", required = true, paramLabel = "URL",
            description = "The server's join port, e.g. https://tresor.internal:8444 (listen.join).")
    private URI server;

    @Option(names = "--api", paramLabel = "URL",
            description = "The server's API (mTLS) port, recorded in DIR for tresor cert renew.")
    private URI api;

    @Option(names = "--ca-bundle", paramLabel = "FILE",
            description = "The CA certificate(s) the server's TLS certificate must chain to.")
    private Path caBundle;

    @Option(names = "--ca-fingerprint", paramLabel = "sha256:HEX",
            description = "Instead of --ca-bundle: the SHA-256 fingerprint of the server's CA certificate (as tresor "
                    + "token create prints it); the CA is taken from the server's TLS chain only if it matches.")
    private String caFingerprint;

    @Option(names = "--profile", paramLabel = "client|workload", defaultValue = "client",
            description = "client: clientAuth only (default); workload: clientAuth and serverAuth (a tunnel).")
    private String profile;

    CertJoinCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        String secret = token();
        if ((caBundle == null) == (caFingerprint == null)) {
            throw CliException.usage("give the server's CA once: --ca-bundle FILE or --ca-fingerprint sha256:HEX");
        }
        List<X509Certificate> trust;
        if (caBundle != null) {
            trust = CertSupport.bundle(caBundle);
        } else {
            try {
                PinnedCa.parse(caFingerprint);
                trust = List.of(PinnedCa.discover(CertSupport.https("--server", server), caFingerprint, Duration.ofSeconds(30)));
            } catch (IllegalArgumentException e) {
                throw CliException.usage("--ca-fingerprint: " + e.getMessage());
            } catch (IssuanceException e) {
                throw CertSupport.failure("join", e);
            }
        }
        IssuanceClient client = new IssuanceClient(trust, Duration.ofSeconds(30));
        CredentialDirectory dir = new CredentialDirectory(out);
        if (dir.load().isPresent()) {
            throw CliException.usage(out + " already holds credentials; renew them with tresor cert renew --dir " + out
                    + ", or join into an empty folder");
        }
        Credentials credentials;
        try {
            credentials = client.join(CertSupport.https("--server", server), secret, KeyMaterial.generateP256(),
                    CertSupport.profile(profile));
        } catch (IssuanceException e) {
            throw CertSupport.failure("join", e);
        }
        dir.install(credentials);
        if (api != null) {
            dir.saveServer(new ServerEndpoint(CertSupport.https("--api", api), trust));
        }
        context.out().println(dir.certificateFile());
        context.err().println("joined as " + credentials.identity() + " (serial " + credentials.serial() + ", valid until "
                + credentials.notAfter() + "); key " + dir.keyFile() + ", certificate " + dir.certificateFile()
                + ", trust bundle " + dir.bundleFile());
        return ExitCodes.OK;
    }

    private String token() {
        int given = (token != null ? 1 : 0) + (tokenFile != null ? 1 : 0);
        if (given > 1) {
            throw CliException.usage("give the join token once: --token or --token-file");
        }
        try {
            String value;
            if (tokenFile != null) {
                value = Files.readString(tokenFile, StandardCharsets.US_ASCII);
            } else if ("-".equals(token)) {
                value = new String(context.stdin().readAllBytes(), StandardCharsets.US_ASCII);
            } else if (token != null) {
                value = token;
            } else {
                value = context.envOrNull("TRESOR_JOIN_TOKEN");
            }
            if (value == null || value.isBlank()) {
                throw CliException.usage("a join token is required: --token, --token-file or TRESOR_JOIN_TOKEN"
                        + " (an admin makes one with tresor token create)");
            }
            return value.trim();
        } catch (IOException e) {
            throw CliException.usage("cannot read the join token: " + e.getMessage());
        }
    }
}
