package dev.tresor.server;

import dev.tresor.Tresor;
import dev.tresor.api.CaPublisher;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.model.Failure;
import dev.tresor.model.TresorException;
import dev.tresor.server.bootstrap.CaRotation;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ServerSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CA key rollover while the server runs ({@code POST /v1/ca/rotate}, {@code tresor ca rotate
 * --online}): the files and the config change as {@link CaRotation} changes them with the server
 * stopped, then this node swaps its CA in memory (new issuance uses the new CA at once, the old one
 * stays trusted until the end of the overlap and signs its own CRL) and rebuilds the client trust
 * of its TLS listener. Connections already open keep working.
 *
 * <p>Other nodes on the same database keep their CA until they get the new files and restart
 * (see docs/operations.md, CA rollover).
 */
final class CaRollover {

    private static final Logger LOG = LoggerFactory.getLogger(CaRollover.class);

    private final ServerSettings settings;
    private final Tresor tresor;
    private final CaPublisher publisher;
    private final TlsReloader tls;
    private final Clock clock;

    CaRollover(ServerSettings settings, Tresor tresor, CaPublisher publisher, TlsReloader tls, Clock clock) {
        this.settings = settings;
        this.tresor = tresor;
        this.publisher = publisher;
        this.tls = tls;
        this.clock = clock;
    }

    synchronized Map<String, Object> rotate(Duration overlap) {
        if (publisher == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server has no CA configured (ca.cert / ca.key)");
        }
        if (settings.configFile() == null) {
            throw new TresorException(Failure.UNAVAILABLE, "this server was not started from a config file, so it cannot "
                    + "record the retired CA under ca.previous; stop it and run tresor ca rotate --config FILE");
        }
        if (overlap != null && (overlap.isNegative() || overlap.isZero())) {
            throw TresorException.badRequest("overlap must be more than 0 (e.g. \"25h\")");
        }
        CertificateAuthority before = publisher.ca();
        CaRotation.Result result;
        try {
            result = CaRotation.rotate(settings.configFile(), overlap, clock);
        } catch (ConfigException | IllegalArgumentException e) {
            throw TresorException.badRequest("the CA rollover did not start: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new TresorException(Failure.UNAVAILABLE, "the CA rollover failed: " + e.getMessage()
                    + "; the running server still issues with CA " + before.certificate().getSerialNumber().toString(16));
        }
        CertificateAuthority next = CertificateAuthority.load(settings.caCert(), settings.caKey(), tresor.keyProvider(), clock);
        publisher.rollOver(next, result.trustUntil());
        try {
            tls.reloadTrust();
        } catch (RuntimeException e) {
            // The new CA issues, but certificates it issues are refused by this listener until the next start.
            throw new TresorException(Failure.UNAVAILABLE, "the CA was rolled over (new serial "
                    + next.certificate().getSerialNumber().toString(16) + "), but the TLS listener could not be given the "
                    + "new trust (" + e.getMessage() + "); restart the server");
        }
        String newSerial = next.certificate().getSerialNumber().toString(16);
        String oldSerial = before.certificate().getSerialNumber().toString(16);
        LOG.info("CA rolled over online: new CA {} issues from now on; CA {} is trusted until {} ({})", newSerial, oldSerial,
                result.trustUntil(), result.retiredCertificate());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("active", newSerial);
        out.put("retired", oldSerial);
        out.put("trustUntil", result.trustUntil().toString());
        out.put("retiredCertificate", result.retiredCertificate().toString());
        out.put("bundle", publisher.bundlePem());
        return out;
    }
}
