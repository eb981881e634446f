package dev.tresor.cli;

import dev.tresor.ca.Pem;
import dev.tresor.ca.SubjectKeys;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.nio.channels.UnresolvedAddressException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Turns a failed connection into a sentence that names the setting to fix. The JDK reports TLS
 * problems as exception chains with alert names in the messages; these are the only stable
 * signal, so classification looks at both types and messages.
 */
final class TransportFailures {

    /** TLS alerts a server sends when it does not accept the client's certificate. */
    private static final List<String> CLIENT_CERT_ALERTS = List.of("bad_certificate", "certificate_unknown",
            "certificate_expired", "certificate_revoked", "unknown_ca", "certificate_required", "access_denied",
            "unsupported_certificate", "handshake_failure", "decrypt_error");

    private TransportFailures() {}

    static CliException classify(Throwable failure, ConnectionSettings settings, Clock clock) {
        String address = settings.address().value().toString();
        String addressSource = settings.address().source();
        StringBuilder text = new StringBuilder();
        boolean refused = false;
        boolean connectTimeout = false;
        boolean requestTimeout = false;
        boolean unresolved = false;
        boolean untrusted = false;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            text.append(' ').append(t.getClass().getName()).append(": ").append(t.getMessage());
            refused |= t instanceof ConnectException && !(t instanceof HttpConnectTimeoutException)
                    && (t.getMessage() == null || !t.getMessage().toLowerCase(Locale.ROOT).contains("timed out"));
            connectTimeout |= t instanceof HttpConnectTimeoutException;
            requestTimeout |= t instanceof HttpTimeoutException && !(t instanceof HttpConnectTimeoutException);
            unresolved |= t instanceof UnresolvedAddressException || t instanceof UnknownHostException;
            untrusted |= t instanceof CertPathBuilderException || t instanceof CertPathValidatorException;
        }
        String all = text.toString().toLowerCase(Locale.ROOT);
        untrusted |= all.contains("pkix path") || all.contains("unable to find valid certification path");
        if (unresolved) {
            return new CliException(ExitCodes.UNAVAILABLE, "cannot resolve the host of " + address
                    + ": is the name right? (check " + addressSource + ")");
        }
        if (connectTimeout) {
            return new CliException(ExitCodes.UNAVAILABLE, "timed out connecting to Tresor at " + address
                    + ": is the address right and the port open? (check " + addressSource + ")");
        }
        if (refused || all.contains("connection refused")) {
            return new CliException(ExitCodes.UNAVAILABLE, "cannot reach Tresor at " + address
                    + ": is the server running? (check " + addressSource + ")");
        }
        if (untrusted) {
            return new CliException(ExitCodes.UNAVAILABLE, "the server's certificate is not trusted by "
                    + settings.ca().describe() + ": check " + settings.ca().source());
        }
        if (all.contains("no subject alternative") || all.contains("no name matching")) {
            return new CliException(ExitCodes.UNAVAILABLE, "the server's certificate does not cover the host in "
                    + addressSource + " (" + address + "): use a name it was issued for (e.g. localhost or 127.0.0.1),"
                    + " or reissue it with that name (tresor init --server-name)");
        }
        if (requestTimeout) {
            return new CliException(ExitCodes.UNAVAILABLE, "Tresor at " + address + " did not answer within "
                    + TresorClient.REQUEST_TIMEOUT.toSeconds() + " s");
        }
        if (clientCertificateRefused(all)) {
            if (!keyBelongsToCertificate(settings.key().value(), settings.cert().value())) {
                return new CliException(ExitCodes.USAGE, settings.key().source() + " (" + settings.key().value()
                        + ") is not the private key of " + settings.cert().source() + " (" + settings.cert().value()
                        + "): point both at the same client's files");
            }
            return new CliException(ExitCodes.DENIED, "the server refused this client certificate ("
                    + settings.cert().source() + "=" + settings.cert().value()
                    + "): is it issued by the server's CA and unexpired?" + validityNote(settings, clock));
        }
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new CliException(ExitCodes.UNAVAILABLE, "cannot talk to Tresor at " + address + ": "
                + (root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage()));
    }

    /**
     * With TLS 1.3 the server checks our certificate after the client considers the handshake
     * done, so a refusal shows up as an alert, or as a reset or closed connection on the first read.
     */
    static boolean clientCertificateRefused(String lowerCaseChain) {
        for (String alert : CLIENT_CERT_ALERTS) {
            if (lowerCaseChain.contains(alert)) {
                return true;
            }
        }
        return lowerCaseChain.contains("connection reset") || lowerCaseChain.contains("broken pipe")
                || lowerCaseChain.contains("received no bytes") || lowerCaseChain.contains("eof reached while reading")
                || lowerCaseChain.contains("connection closed") || lowerCaseChain.contains("remote host terminated");
    }

    /**
     * Whether the key file holds the certificate's private key. True also when the files cannot be
     * read again: this only refines an error message, so it blames the pair only when it is sure.
     */
    static boolean keyBelongsToCertificate(Path keyFile, Path certFile) {
        try {
            return SubjectKeys.matches(Pem.readPrivateKey(keyFile), Pem.readCertificates(certFile).getFirst().getPublicKey());
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** Says why the certificate is refused when we can see it ourselves (the usual case: it expired). */
    private static String validityNote(ConnectionSettings settings, Clock clock) {
        try {
            X509Certificate leaf = Pem.readCertificates(settings.cert().value()).getFirst();
            Instant now = clock.instant();
            if (leaf.getNotAfter().toInstant().isBefore(now)) {
                String identity;
                try {
                    identity = dev.tresor.ca.Identities.identityOf(leaf);
                } catch (IllegalArgumentException e) {
                    identity = "IDENTITY";
                }
                // Renewal needs a certificate that is still valid, so an expired one starts over with a join token.
                return " It expired at " + leaf.getNotAfter().toInstant() + "; ask an admin for a join token (tresor token "
                        + "create --identity " + identity + ") and get a new certificate with: tresor cert join --token TOKEN "
                        + "--out DIR --server https://HOST:JOINPORT --ca-bundle " + settings.ca().value()
                        + " (renew before expiry with: tresor cert renew).";
            }
            if (leaf.getNotBefore().toInstant().isAfter(now)) {
                return " It is valid only from " + leaf.getNotBefore().toInstant() + "; check this machine's clock.";
            }
        } catch (RuntimeException e) {
            // The certificate loaded a moment ago for the handshake; if it cannot be re-read now, add nothing.
        }
        return "";
    }
}
