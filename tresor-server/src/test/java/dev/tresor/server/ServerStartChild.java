package dev.tresor.server;

import dev.tresor.server.config.ConfigLoader;
import java.nio.file.Path;

/**
 * Starts a server from a config in a fresh JVM and prints one line: "started" (then stops it), or
 * "refused <exception class>: <message>". PKCS#11 logins last as long as the process, so a wrong
 * PIN is only refused by a process that has not logged in before, as a real start is.
 */
public final class ServerStartChild {

    private ServerStartChild() {}

    public static void main(String[] args) {
        try (TresorServer server = TresorServer.start(ConfigLoader.load(Path.of(args[0])))) {
            System.out.println("started");
        } catch (RuntimeException e) {
            System.out.println("refused " + e.getClass().getSimpleName() + ": " + e.getMessage().replace('\n', ' '));
        }
        System.out.flush();
        System.exit(0);
    }
}
