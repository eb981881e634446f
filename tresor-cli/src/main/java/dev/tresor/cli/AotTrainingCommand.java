package dev.tresor.cli;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The training run behind the launcher's AOT cache (JEP 483/514/515). It starts a throw-away
 * {@code tresor dev} in a child JVM and runs the real client commands against it in this JVM, so
 * the cache records exactly the classes and profiles of the client path (TLS handshake, HTTP,
 * JSON, picocli) and none of the server's, which a client start would otherwise preload for
 * nothing. With {@code --server} the dev server runs in this JVM instead, so the cache (the
 * launcher's second one, for {@code tresor server} and {@code tresor dev}) records the server's
 * start-up and request path as well. Any failure exits non-zero, and the launcher then keeps no
 * cache.
 */
@Command(name = "__aot-train", hidden = true, description = "Internal: training run for the launcher's AOT cache.")
final class AotTrainingCommand implements Callable<Integer> {

    private static final List<List<String>> CLIENT_COMMANDS = List.of(
            List.of("whoami"),
            List.of("whoami", "--json"),
            List.of("secret", "put", "train/hello", "--value", "world", "--group", "dev"),
            List.of("secret", "put", "train/hello", "-"),
            List.of("secret", "get", "train/hello"),
            List.of("secret", "get", "train/hello", "--json"),
            List.of("secret", "get", "train/hello", "--raw"),
            List.of("secret", "ls"),
            List.of("secret", "ls", "--json"),
            List.of("secret", "versions", "train/hello"),
            List.of("group", "ls"),
            List.of("client", "ls"),
            List.of("audit", "tail", "--limit", "5"),
            List.of("--help"),
            List.of("secret", "get", "--help"));

    private static final long SERVER_START_SECONDS = 60;

    private final CliContext context;

    @Option(names = "--server", description = "Run the dev server in this JVM, to train the server's cache.")
    private boolean inProcessServer;

    AotTrainingCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path scratch = Files.createTempDirectory("tresor-aot-training");
        if (inProcessServer) {
            try {
                trainWithServerHere(scratch.resolve("data"));
            } finally {
                deleteRecursively(scratch);
            }
            return ExitCodes.OK;
        }
        Process server = null;
        try {
            server = startDevServer(scratch.resolve("data"));
            runClientCommands(exportsOf(server));
        } finally {
            if (server != null) {
                server.destroy();
                if (!server.waitFor(20, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
            deleteRecursively(scratch);
        }
        return ExitCodes.OK;
    }

    private void runClientCommands(Map<String, String> env) {
        // Twice: the second round runs warmed code, which is what the recorded profiles should describe.
        for (int round = 0; round < 2; round++) {
            for (List<String> args : CLIENT_COMMANDS) {
                run(env, args, round);
            }
        }
    }

    /** A dev folder and server as `tresor dev` makes them, in this JVM, then the client commands against it. */
    private void trainWithServerHere(Path dir) {
        int api = Ports.anyFree(DevCommand.HOST, -1);
        int management = Ports.anyFree(DevCommand.HOST, api);
        DataFolder folder = new DataFolder(dir);
        folder.create(new DataFolder.Options("tresor.local", DevCommand.HOST + ":" + api, DevCommand.HOST + ":" + management,
                List.of(), DevCommand.ADMIN, DevCommand.ADMIN_CERT_TTL, null), context.clock());
        try (TresorServer server = ServerLifecycle.start(DevCommand.load(folder), folder.config().toString())) {
            DataFolder.AdminCredentials admin = folder.adminCredentials(DevCommand.ADMIN);
            String address = "https://" + DevCommand.HOST + ":" + server.apiPort();
            DevCommand.createDevGroup(address, admin, context.clock());
            Map<String, String> env = new HashMap<>();
            env.put(ConnectionResolver.ADDR, address);
            env.put(ConnectionResolver.CERT, admin.cert().toString());
            env.put(ConnectionResolver.KEY, admin.key().toString());
            env.put(ConnectionResolver.CA, admin.ca().toString());
            runClientCommands(env);
        }
    }

    private static Process startDevServer(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", ownJar(), Main.class.getName(),
                "dev", "--dir", dir.toString(), "--port", "0", "--management-port", "0"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        // The JVM passes AOT options to helpers through these; the server must not inherit them.
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        return builder.start();
    }

    private static String ownJar() {
        try {
            return Path.of(AotTrainingCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate tresor's own jar", e);
        }
    }

    /** Reads the dev server's banner up to its last export line. */
    private static Map<String, String> exportsOf(Process server) throws IOException {
        Map<String, String> env = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SERVER_START_SECONDS);
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while (!env.containsKey(ConnectionResolver.CA) && System.nanoTime() < deadline && (line = lines.readLine()) != null) {
            if (line.startsWith("export ")) {
                int equals = line.indexOf('=');
                String value = line.substring(equals + 1);
                if (value.startsWith("'") && value.endsWith("'")) {
                    value = value.substring(1, value.length() - 1).replace("'\\''", "'");
                }
                env.put(line.substring("export ".length(), equals), value);
            }
        }
        if (!env.containsKey(ConnectionResolver.CA)) {
            throw CliException.error("the training server did not start");
        }
        return env;
    }

    private void run(Map<String, String> env, List<String> args, int round) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(captured, true, StandardCharsets.UTF_8);
        CliContext child = context.with(env, new ByteArrayInputStream(("value " + round).getBytes(StandardCharsets.UTF_8)),
                new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8), err);
        int code = Cli.run(child, args.toArray(String[]::new));
        if (code != ExitCodes.OK) {
            throw CliException.error("training step `tresor " + String.join(" ", args) + "` exited " + code + ": "
                    + captured.toString(StandardCharsets.UTF_8).strip());
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
