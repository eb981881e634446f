package dev.tresor.cli;

import dev.tresor.client.IssuanceClient;
import dev.tresor.client.IssuanceException;
import dev.tresor.client.KeyMaterial;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

/** What cert join and cert renew share: reading the CA bundle, checking URLs, mapping failures to exit codes. */
final class CertSupport {

    private CertSupport() {}

    static List<X509Certificate> bundle(Path file) {
        try {
            return KeyMaterial.parseCertificates(Files.readString(file));
        } catch (IOException e) {
            throw CliException.usage("cannot read the CA bundle " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("the CA bundle " + file + " holds no PEM certificate: " + e.getMessage());
        }
    }

    static URI https(String flag, URI url) {
        if (url == null || !"https".equals(url.getScheme()) || url.getHost() == null) {
            throw CliException.usage(flag + " must be https://HOST:PORT, got " + url);
        }
        return url;
    }

    static IssuanceClient.Profile profile(String name) {
        return switch (name) {
            case "client" -> IssuanceClient.Profile.CLIENT;
            case "workload" -> IssuanceClient.Profile.WORKLOAD;
            default -> throw CliException.usage("--profile must be client or workload, not " + name);
        };
    }

    static CliException failure(String what, IssuanceException e) {
        int code = e.status() == 0 ? ExitCodes.UNAVAILABLE
                : e.status() == 401 || e.status() == 403 ? ExitCodes.DENIED
                : e.status() == 404 ? ExitCodes.NOT_FOUND : ExitCodes.ERROR;
        return new CliException(code, what + " failed: " + e.getMessage());
    }
}
