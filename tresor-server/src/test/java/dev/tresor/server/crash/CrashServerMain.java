package dev.tresor.server.crash;

import dev.tresor.server.TresorServer;
import dev.tresor.server.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The server as its own process, for the crash tests: {@code CrashServerMain CONFIG [ADMIN_IDENTITY]}.
 * Starts {@link TresorServer} from the config file, registers the admin if one is named, prints
 * {@code READY <apiPort>}, then serves until a {@code stop} line (or the end of stdin) asks for an
 * orderly shutdown, which it confirms with {@code STOPPED}. The tests usually never ask: they
 * SIGKILL it.
 */
public final class CrashServerMain {

    private CrashServerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: CrashServerMain CONFIG [ADMIN_IDENTITY]");
            System.exit(2);
        }
        TresorServer server = TresorServer.start(ConfigLoader.load(Path.of(args[0])));
        if (args.length == 2) {
            server.tresor().bootstrapAdmin("admin", args[1]);
        }
        System.out.println("READY " + server.apiPort());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.strip().equals("stop")) {
            // nothing else is understood
        }
        server.close();
        System.out.println("STOPPED");
        System.out.flush();
        System.exit(0);
    }
}
