package dev.tresor.cli;

import dev.tresor.client.api.ServerAddresses;
import dev.tresor.model.Durations;
import dev.tresor.mount.MountException;
import dev.tresor.mount.MountSettings;
import dev.tresor.mount.TresorMount;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tresor mount DIR}: resolves the connection settings like every API command, builds the
 * TLS context, and hands both to tresor-mount, which knows nothing of flags or profiles. Runs in
 * the foreground until SIGTERM/SIGINT, whose shutdown hook unmounts.
 */
@Command(name = "mount",
        description = {
                "Mount a read-only view of the secrets you may read at DIR (FUSE): each secret is a 0400 file, "
                        + "path-like names are folders, old versions are NAME@versions/N. A value is fetched (one "
                        + "audited read) when a file is opened and held in memory only while it is open. New versions "
                        + "and revokes show up without remounting. With several server addresses (TRESOR_ADDR, --addr or the profile's "
                        + "addr: https://a:8443,https://b:8443) it keeps serving when a node dies. "
                        + "Stays in the foreground; Ctrl-C or SIGTERM unmounts. "
                        + "See docs/delivery.md.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  mkdir -p /run/tresor && tresor mount /run/tresor &",
                "  cat /run/tresor/openemr/db/password",
                "  ls /run/tresor/openemr/db/password@versions",
                "  kill %1        # unmounts",
        })
final class MountCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Parameters(index = "0", paramLabel = "DIR", description = "An existing empty folder to mount on.")
    private Path dir;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "Longest wait for the server per file operation before it fails with EIO (default: ${DEFAULT-VALUE}).")
    private String timeout;

    @Option(names = "--libfuse", paramLabel = "FILE", description = "libfuse3 shared object (default: "
            + "/usr/lib/x86_64-linux-gnu/libfuse3.so.3, from Debian's fuse3).")
    private Path libfuse;

    MountCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() throws InterruptedException {
        Duration bound;
        try {
            bound = Durations.parse("--timeout", timeout);
        } catch (RuntimeException e) {
            throw CliException.usage(e.getMessage());
        }
        if (bound.isZero() || bound.isNegative()) {
            throw CliException.usage("--timeout must be positive, e.g. 5s");
        }
        ConnectionSettings settings = new ConnectionResolver(context).resolve();
        MountSettings mount = new MountSettings(new ServerAddresses(settings.addresses()), TresorClient.tls(settings), dir, bound,
                null, null, libfuse);
        TresorMount mounted;
        try {
            mounted = TresorMount.mount(mount);
        } catch (MountException e) {
            throw new CliException(ExitCodes.ERROR, e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(mounted::close, "tresor-unmount"));
        if (mounted.note() != null) {
            context.err().println("tresor: " + mounted.note());
        }
        context.err().println("tresor: " + mounted.secretCount() + " secret(s) mounted read-only at " + mounted.mountPoint()
                + "; Ctrl-C or SIGTERM unmounts");
        mounted.awaitClosed();
        return ExitCodes.OK;
    }
}
