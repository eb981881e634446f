package dev.tresor.cli;

import dev.tresor.ca.Identities;
import dev.tresor.model.Durations;
import dev.tresor.server.bootstrap.DataFolder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "init", description = {
                "Create a production data folder: server config, KEK, CA, server certificate and SQLite store; and the "
                        + "first admin's client certificate and key in --admin-out, a folder outside the data folder (the "
                        + "admin's key does not belong next to the KEK and the CA key). Refuses a data folder that is not "
                        + "empty, so no key is ever overwritten.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor init /var/lib/tresor --admin-out ~/.tresor/admin \\",
                "      --trust-domain example.org --san tresor.tresor.svc",
                "  tresor init ./tresor-data --admin-out ./alice --admin alice \\",
                "      --listen 127.0.0.1:8443",
                "  tresor server --config /var/lib/tresor/tresor.yaml   # start it",
        })
final class InitCommand implements Callable<Integer> {

    @Mixin
    private HelpOption help;

    private final CliContext context;

    @Parameters(index = "0", paramLabel = "DIR", description = "The folder to create (must be missing or empty).")
    private Path dir;

    @Option(names = "--trust-domain", paramLabel = "D", defaultValue = "tresor.local",
            description = "SPIFFE trust domain of the CA's identities (default: ${DEFAULT-VALUE}).")
    private String trustDomain;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:8443",
            description = "Address of the mTLS API (default: ${DEFAULT-VALUE}).")
    private String listen;

    @Option(names = "--management", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8444",
            description = "Address of /healthz, /readyz, /metrics; plain HTTP, keep it internal (default: ${DEFAULT-VALUE}).")
    private String management;

    @Option(names = {"--san", "--server-name"}, paramLabel = "NAME",
            description = "Extra DNS name or IP for the server certificate (repeatable; localhost, 127.0.0.1 and ::1 are always in).")
    private List<String> serverNames = new ArrayList<>();

    @Option(names = "--admin", paramLabel = "NAME", defaultValue = "admin",
            description = "Name of the first admin client (default: ${DEFAULT-VALUE}).")
    private String admin;

    @Option(names = "--admin-out", required = true, paramLabel = "DIR",
            description = "Folder for the first admin's NAME.crt, NAME.key (0600) and ca.crt; outside the data folder "
                    + "(made 0700 if missing).")
    private Path adminOut;

    @Option(names = "--admin-ttl", paramLabel = "DURATION", defaultValue = "90d",
            description = "Lifetime of the first admin's certificate (default: ${DEFAULT-VALUE}).")
    private String adminTtl;

    @Option(names = "--passphrase-file", paramLabel = "FILE",
            description = "Seal the KEK file by the passphrase on this 0600 file's first line (at least 12 characters; "
                    + "outside the data folder). The server reads it at each start (keyProvider.passphraseFile).")
    private Path passphraseFile;

    InitCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Identities.identityProblem("spiffe://" + trustDomain + "/client/" + admin).ifPresent(problem -> {
            throw CliException.usage("--trust-domain " + trustDomain + " / --admin " + admin + ": " + problem);
        });
        checkAddress("--listen", listen);
        checkAddress("--management", management);
        Duration ttl;
        try {
            ttl = Durations.parse("--admin-ttl", adminTtl);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        DataFolder folder = new DataFolder(dir);
        refuseNonEmpty(folder.dir());
        Path adminFolder = adminOut.toAbsolutePath().normalize();
        if (adminFolder.startsWith(folder.dir())) {
            throw CliException.usage("--admin-out " + adminOut + " is inside the data folder " + folder.dir()
                    + "; put the admin's key elsewhere (e.g. --admin-out ~/.tresor/" + admin + "), so whoever copies the "
                    + "data folder does not also get an admin login");
        }
        for (String file : List.of(admin + ".crt", admin + ".key")) {
            if (Files.exists(adminFolder.resolve(file))) {
                throw CliException.usage(adminFolder.resolve(file) + " already exists; refusing to overwrite it "
                        + "(choose another --admin-out)");
            }
        }
        OutputFolders.requireCreatable(adminFolder, true, "--admin-out");
        dev.tresor.crypto.Passphrase passphrase = passphraseFile == null ? null : checkedPassphrase(folder);
        DataFolder.AdminCredentials credentials;
        try {
            credentials = folder.create(new DataFolder.Options(trustDomain, listen, management, List.copyOf(serverNames),
                    admin, ttl, adminFolder), context.clock());
            if (passphrase != null) {
                dev.tresor.server.bootstrap.KeyPassphraseChange.apply(folder.config(), passphrase, context.env());
                context.err().println("sealed kek.json by the passphrase in " + passphraseFile
                        + " (keyProvider.passphraseFile); without it the store cannot be opened");
            }
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw CliException.error(Cli.describe(e));
        }
        print(folder, credentials);
        return ExitCodes.OK;
    }

    /** Before anything is created: the passphrase file must be readable, private, long enough and not in the folder. */
    private dev.tresor.crypto.Passphrase checkedPassphrase(DataFolder folder) {
        Path file = passphraseFile.toAbsolutePath().normalize();
        if (file.startsWith(folder.dir().toAbsolutePath().normalize())) {
            throw CliException.usage("--passphrase-file " + passphraseFile + " is inside the data folder " + folder.dir()
                    + "; keep it elsewhere, so that whoever copies the folder does not also get the passphrase");
        }
        dev.tresor.crypto.Passphrase source = dev.tresor.crypto.Passphrase.fromFile(file);
        char[] chars;
        try {
            chars = source.read(context.env());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--passphrase-file: " + e.getMessage());
        }
        try {
            dev.tresor.crypto.Passphrase.requireStrongEnough(chars, source.source());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--passphrase-file: " + e.getMessage());
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
        return source;
    }

    private static void refuseNonEmpty(Path folder) throws IOException {
        if (Files.exists(folder) && !Files.isDirectory(folder)) {
            throw CliException.error(folder + " exists and is not a folder");
        }
        if (Files.isDirectory(folder)) {
            try (Stream<Path> entries = Files.list(folder)) {
                if (entries.findAny().isPresent()) {
                    throw CliException.error("folder " + folder + " is not empty; refusing to overwrite it (choose a new "
                            + "folder, or start the existing one with: tresor server --config " + folder.resolve(DataFolder.CONFIG) + ")");
                }
            }
        }
    }

    private static void checkAddress(String flag, String address) {
        int colon = address.lastIndexOf(':');
        boolean valid = colon > 0 && address.substring(colon + 1).matches("\\d{1,5}")
                && Integer.parseInt(address.substring(colon + 1)) <= 65535;
        if (!valid) {
            throw CliException.usage(flag + " '" + address + "' must be HOST:PORT, e.g. 0.0.0.0:8443");
        }
    }

    private void print(DataFolder folder, DataFolder.AdminCredentials admin) {
        PrintStream out = context.out();
        Path d = folder.dir();
        List<String> names = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        serverNames.stream().filter(n -> !names.contains(n)).forEach(names::add);
        out.println("Created a Tresor data folder in " + d + ":");
        out.println("  tresor.yaml         server configuration (listen addresses, store, audit; documented inline)");
        out.println("  kek.json            key-encryption key (0600); back it up apart from the data: without it nothing decrypts");
        out.println("  ca.crt, ca.key      certificate authority for " + trustDomain + " (ca.key 0600)");
        out.println("  server.crt, .key    API certificate for " + String.join(", ", names));
        out.println("  tresor.db           the store (SQLite)");
        out.println("and, apart from it, in " + admin.cert().getParent() + ":");
        out.println("  " + this.admin + ".crt, .key, ca.crt");
        out.println("                      the first admin, " + admin.identity() + ", valid " + adminTtl);
        out.println();
        out.println("Start the server:");
        out.println("  tresor server --config " + ShellExports.quote(folder.config().toString()));
        out.println();
        out.println("Then, as the admin (on this machine):");
        ShellExports.lines("https://" + clientHost() + ":" + listen.substring(listen.lastIndexOf(':') + 1),
                admin.cert(), admin.key(), admin.ca()).forEach(line -> out.println("  " + line));
        out.println("  tresor whoami");
    }

    /** A wildcard listen address is not something to connect to; use a name the certificate has. */
    private String clientHost() {
        String host = listen.substring(0, listen.lastIndexOf(':'));
        if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("[::]") || host.equals("::")) {
            return serverNames.isEmpty() ? "127.0.0.1" : serverNames.getFirst();
        }
        return host;
    }
}
