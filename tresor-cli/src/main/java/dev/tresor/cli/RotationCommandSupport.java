package dev.tresor.cli;

import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.TresorConnection;
import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.RotationConfigLoader;
import java.nio.file.Path;

/** What the rotate commands share: loading the definition, the job's Tresor connection, exit codes. */
final class RotationCommandSupport {

    private RotationCommandSupport() {}

    static RotationConfig load(Path config) {
        try {
            return RotationConfigLoader.load(config);
        } catch (RotationException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    /** The rotation job talks to Tresor as the CLI's identity (flags, TRESOR_* or the profile). */
    static TresorConnection connection(CliContext context) {
        ConnectionSettings s = new ConnectionResolver(context).resolve();
        return new TresorConnection(s.address().value(), s.cert().value(), s.key().value(), s.ca().value());
    }

    static int exitCode(String kind) {
        if (kind == null) {
            return ExitCodes.OK;
        }
        return switch (RotationException.Kind.valueOf(kind)) {
            case CONFIG -> ExitCodes.USAGE;
            case DENIED -> ExitCodes.DENIED;
            case UNAVAILABLE -> ExitCodes.UNAVAILABLE;
            case STATE, BUSY, ROLLED_BACK, FAILED -> ExitCodes.ERROR;
        };
    }
}
