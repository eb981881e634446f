package dev.tresor.mount;

import dev.tresor.ca.TrustMaterial;
import java.nio.file.Path;

/**
 * {@code tresor mount} reduced to what the signal tests need, run as a subprocess: URL[,URL...] CERT KEY CA DIR.
 * Like the CLI, it unmounts from a shutdown hook, which SIGTERM and SIGINT run.
 */
public final class MountMain {

    private MountMain() {}

    public static void main(String[] args) throws Exception {
        MountSettings settings = MountSettings.of(dev.tresor.client.api.ServerAddresses.parse(args[0]),
                TrustMaterial.clientContext(Path.of(args[1]), Path.of(args[2]), Path.of(args[3])), Path.of(args[4]));
        TresorMount mount = TresorMount.mount(settings);
        Runtime.getRuntime().addShutdownHook(new Thread(mount::close, "unmount"));
        System.out.println("mounted " + mount.secretCount() + (mount.note() == null ? "" : " (" + mount.note() + ")"));
        System.out.flush();
        mount.awaitClosed();
    }
}
