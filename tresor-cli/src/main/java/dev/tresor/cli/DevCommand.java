package dev.tresor.cli;

import dev.tresor.ca.Pem;
import dev.tresor.server.TresorServer;
import dev.tresor.server.bootstrap.DataFolder;
import dev.tresor.server.config.ConfigException;
import dev.tresor.server.config.ConfigLoader;
import dev.tresor.server.config.ServerSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dev", description = {
                "Run a ready-to-use local server in one command: store, KEK, CA, server and admin certificates in a folder "
                        + "(created on first run, reused afterwards), API on 127.0.0.1. Prints the export lines to use it "
                        + "as the admin and saves them in DIR/env.sh. Ctrl-C stops it; the data stays.",
                "The first run also creates a group 'dev' that the admin belongs to, so secrets put there can be read back at once.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor dev                   # then elsewhere: source ~/.tresor/dev/env.sh",
                "  tresor dev --dir /tmp/try --port 0     # any free port",
                "  TRESOR_DEV_DIR=./.tresor tresor dev",
        })
final class DevCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    static final int DEFAULT_API_PORT = 7443;
    static final int DEFAULT_MANAGEMENT_PORT = 7444;
    static final String HOST = "127.0.0.1";
    static final String ADMIN = "admin";
    static final String DEV_GROUP = "dev";
    static final Duration ADMIN_CERT_TTL = Duration.ofDays(90);
    static final Duration RENEW_MARGIN = Duration.ofDays(30);

    private final CliContext context;

    @Option(names = "--dir", paramLabel = "DIR", description = "Data folder (default: $TRESOR_DEV_DIR, else ~/.tresor/dev).")
    private Path dir;

    @Option(names = "--port", paramLabel = "N", description = "API port (default: the configured one, first time 7443; 0 = any free port).")
    private Integer port;

    @Option(names = "--management-port", paramLabel = "N", description = "Management port for /healthz, /readyz, /metrics (default: 7444 or any free port).")
    private Integer managementPort;

    @Option(names = "--trust-domain", paramLabel = "D", defaultValue = "tresor.local",
            description = "SPIFFE trust domain of a new folder's CA (default: ${DEFAULT-VALUE}).")
    private String trustDomain;

    @Option(names = "--accept-rollback", paramLabel = "REASON", description = "Start although the audit log and the "
            + "store disagree (a log cut or put back, a database restored from an older backup), after you checked why; "
            + "the reason is recorded in the audit log. See docs/operations.md, start-up refusals.")
    private String acceptRollback;

    DevCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintStream err = context.err();
        DataFolder folder = new DataFolder(dataDir());
        boolean created = false;
        List<String> notes = new ArrayList<>();
        if (!folder.exists()) {
            int api = choosePort(port, DEFAULT_API_PORT, -1, "--port");
            int management = choosePort(managementPort, DEFAULT_MANAGEMENT_PORT, api, "--management-port");
            err.println("creating a Tresor dev folder in " + folder.dir() + " ...");
            try {
                folder.create(new DataFolder.Options(trustDomain, HOST + ":" + api, HOST + ":" + management, List.of(),
                        ADMIN, ADMIN_CERT_TTL, null), context.clock());
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw CliException.error(Cli.describe(e));
            }
            created = true;
        }
        try (FileChannel lockFile = FileChannel.open(folder.dir().resolve(".tresor-dev.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockFile.tryLock()) {
            if (lock == null) {
                throw CliException.error("another `tresor dev` is already running on " + folder.dir()
                        + "; use it (source " + folder.dir().resolve("env.sh") + ") or pass another --dir");
            }
            if (!created) {
                if (!trustDomain.equals("tresor.local")) {
                    notes.add("--trust-domain is ignored: " + folder.dir() + " already has its CA");
                }
                renewServerCertificateIfExpiring(folder, notes);
                adjustPorts(folder, notes);
            }
            ServerSettings settings = load(folder);
            if (acceptRollback != null) {
                if (acceptRollback.isBlank()) {
                    throw CliException.usage("--accept-rollback needs a reason, e.g. --accept-rollback \"restored an older copy\"");
                }
                settings = settings.withAcceptRollback(acceptRollback);
            }
            TresorServer server = ServerLifecycle.start(settings, folder.config().toString());
            DataFolder.AdminCredentials admin = folder.adminCredentials(ADMIN);
            String address = "https://" + HOST + ":" + server.apiPort();
            List<String> exports = ShellExports.lines(address, admin.cert(), admin.key(), admin.ca());
            if (created) {
                createDevGroup(address, admin, notes);
            }
            writeEnvFile(folder.dir().resolve("env.sh"), exports);
            printBanner(folder, server, exports, notes);
            ServerLifecycle.runUntilStopped(server, err);
        }
        return ExitCodes.OK;
    }

    /**
     * Dev folders live for months, longer than their server certificate may. The expiry is
     * checked here first because DataFolder's own check cannot read a chain file (reported).
     */
    private void renewServerCertificateIfExpiring(DataFolder folder, List<String> notes) {
        X509Certificate leaf = Pem.readCertificates(folder.dir().resolve("server.crt")).getFirst();
        if (leaf.getNotAfter().toInstant().isAfter(context.clock().instant().plus(RENEW_MARGIN))) {
            return;
        }
        try {
            if (folder.renewServerCertificateIfExpiring(RENEW_MARGIN, context.clock())) {
                notes.add("renewed the server certificate (it expired within " + RENEW_MARGIN.toDays() + " days)");
            }
        } catch (RuntimeException e) {
            notes.add("could not renew the server certificate (valid until " + leaf.getNotAfter().toInstant() + "): "
                    + Cli.describe(e));
        }
    }

    private Path dataDir() {
        if (dir != null) {
            return dir;
        }
        String env = context.envOrNull("TRESOR_DEV_DIR");
        return env != null ? Path.of(env) : context.home().resolve(".tresor").resolve("dev");
    }

    /** An explicit port must be free; the default falls back to any free port. 0 means any free port. */
    private static int choosePort(Integer requested, int preferred, int avoid, String flag) {
        if (requested != null && requested != 0) {
            if (!Ports.isFree(HOST, requested)) {
                throw CliException.error("port " + requested + " (" + flag + ") is in use; choose another or leave " + flag + " out");
            }
            return requested;
        }
        if (requested == null && preferred != avoid && Ports.isFree(HOST, preferred)) {
            return preferred;
        }
        return Ports.anyFree(HOST, avoid);
    }

    /**
     * On a re-run the configured ports may be taken (by something else: our own lock rules out
     * a second dev server). Then we move to free ones and say so; the config and env.sh follow.
     */
    private void adjustPorts(DataFolder folder, List<String> notes) throws IOException {
        ServerSettings settings = load(folder);
        int configuredApi = settings.apiAddress().getPort();
        int configuredManagement = settings.managementAddress().getPort();
        int api = adjustedPort(port, configuredApi, -1, "--port", "API", notes);
        int management = adjustedPort(managementPort, configuredManagement, api, "--management-port", "management", notes);
        if (api != configuredApi || management != configuredManagement) {
            String yaml = Files.readString(folder.config(), StandardCharsets.UTF_8);
            yaml = withListenPort(yaml, "api", api);
            yaml = withListenPort(yaml, "management", management);
            SecureFiles.writeOwnerOnly(folder.config(), yaml.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static int adjustedPort(Integer requested, int configured, int avoid, String flag, String what, List<String> notes) {
        if (requested != null && requested != 0) {
            return choosePort(requested, requested, avoid, flag);
        }
        if (requested == null && configured != 0 && configured != avoid && Ports.isFree(HOST, configured)) {
            return configured;
        }
        int free = Ports.anyFree(HOST, avoid);
        if (requested == null) {
            notes.add("the " + what + " port " + configured + " is in use; using " + free + " instead (tresor.yaml and env.sh updated)");
        }
        return free;
    }

    /** Rewrites the port of {@code listen.<key>} in the YAML text, keeping its host and every comment. */
    static String withListenPort(String yaml, String key, int newPort) {
        Pattern line = Pattern.compile("(?m)^(\\s+" + key + ":\\s*\"?)([^\"\\s#]*):(\\d+)(\"?)");
        Matcher matcher = line.matcher(yaml);
        if (!matcher.find()) {
            throw CliException.error("cannot find listen." + key + " in the dev config to change its port");
        }
        return matcher.replaceFirst(Matcher.quoteReplacement(matcher.group(1) + matcher.group(2) + ":" + newPort + matcher.group(4)));
    }

    static ServerSettings load(DataFolder folder) {
        try {
            return ConfigLoader.load(folder.config());
        } catch (ConfigException e) {
            throw CliException.error(folder.config() + ": " + e.getMessage());
        }
    }

    /** Through the API, as the admin, so these first changes are audited like any other. */
    private void createDevGroup(String address, DataFolder.AdminCredentials admin, List<String> notes) {
        try {
            createDevGroup(address, admin, context.clock());
        } catch (CliException e) {
            notes.add("could not create the '" + DEV_GROUP + "' group: " + e.getMessage());
        }
    }

    /** The dev group, with the admin as a writer (also made by the AOT training's own dev server). */
    static void createDevGroup(String address, DataFolder.AdminCredentials admin, java.time.Clock clock) {
        ConnectionSettings settings = new ConnectionSettings(new Setting<>(java.net.URI.create(address), "dev"),
                new Setting<>(admin.cert(), "dev"), new Setting<>(admin.key(), "dev"), new Setting<>(admin.ca(), "dev"));
        try (TresorClient api = TresorClient.open(settings, clock)) {
            api.call("POST", "groups", Map.of(), Json.object().put("name", DEV_GROUP)
                    .put("description", "created by `tresor dev`; the admin may read and write its secrets"));
            api.call("PUT", "groups/" + DEV_GROUP + "/clients/" + ADMIN, Map.of(), Json.object().put("role", "write"));
        }
    }

    private void writeEnvFile(Path file, List<String> exports) throws IOException {
        String content = "# Written by `tresor dev`. Source it to act as the dev server's admin:  source " + file + "\n"
                + String.join("\n", exports) + "\n";
        SecureFiles.writeOwnerOnly(file, content.getBytes(StandardCharsets.UTF_8));
    }

    private void printBanner(DataFolder folder, TresorServer server, List<String> exports, List<String> notes) {
        PrintStream out = context.out();
        for (String note : notes) {
            context.err().println("note: " + note);
        }
        out.println("Tresor dev server is running.");
        out.println("  API:         https://" + HOST + ":" + server.apiPort() + "  (mutual TLS)");
        out.println("  Management:  http://" + HOST + ":" + server.managementPort() + "/healthz  /readyz  /metrics");
        out.println("  Data:        " + folder.dir() + "  (kept; re-run `tresor dev` to reuse it)");
        out.println();
        out.println("Use it from another shell (also saved in " + folder.dir().resolve("env.sh") + "):");
        out.println();
        exports.forEach(out::println);
        out.println();
        out.println("Then try:");
        out.println("  tresor whoami");
        out.println("  tresor secret put hello --value world --group " + DEV_GROUP);
        out.println("  tresor secret get hello");
        out.println("  tresor secret ls");
        out.println();
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }
}
