package dev.tresor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tresor.ca.CsrBuilder;
import dev.tresor.ca.Identities;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", description = {
                "Create a client and issue its certificate (admins).",
                "The private key is generated here and never leaves this machine; the server's CA signs a request for it. "
                        + "Writes DIR/NAME.crt (certificate chain), DIR/NAME.key (mode 0600) and DIR/ca.crt (the CA bundle "
                        + "to trust the server with), then prints the export lines to act as the new client.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
                "  tresor client create app1 --out ./app1-certs",
                "  tresor client create ci --out /tmp/ci --ttl 30d \\",
                "      --identity spiffe://tresor.local/ns/ci/sa/deployer",
                "  tresor client create alice --admin --out ~/.tresor/alice",
        })
final class ClientCreateCommand extends ApiCommand {

    @Mixin
    private HelpOption help;

    @Mixin
    private OutputOption output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Client name.")
    private String name;

    @Option(names = "--identity", paramLabel = "URI",
            description = "Identity in the certificate (default: spiffe://<your trust domain>/client/NAME).")
    private String identity;

    @Option(names = "--admin", description = "Make the client an admin.")
    private boolean admin;

    @Option(names = "--parents", description = "Create the missing parent folders of --out too.")
    private boolean parents;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for NAME.crt, NAME.key and ca.crt "
            + "(made if missing, mode 0700; its parent must exist unless --parents).")
    private Path outDir;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "90d",
            description = "Certificate lifetime (default: ${DEFAULT-VALUE}; the server may cap it).")
    private String ttl;

    ClientCreateCommand(CliContext context) {
        super(context);
    }

    @Override
    protected Integer run() throws IOException {
        Path folder = outDir.toAbsolutePath().normalize();
        Path certFile = folder.resolve(name + ".crt");
        Path keyFile = folder.resolve(name + ".key");
        Path caFile = folder.resolve("ca.crt");
        OutputFolders.requireCreatable(folder, parents, "--out");
        for (Path existing : List.of(certFile, keyFile)) {
            if (Files.exists(existing)) {
                throw CliException.usage(existing + " already exists; refusing to overwrite it (choose another --out)");
            }
        }
        TresorClient api = connect();
        String clientIdentity = identity != null ? identity
                : "spiffe://" + trustDomainOf(api.settings()) + "/client/" + name;
        Identities.identityProblem(clientIdentity).ifPresent(problem -> {
            throw CliException.usage("--identity " + clientIdentity + ": " + problem);
        });
        // The CA bundle the admin already trusts the server with is, by definition, what the new client needs too.
        List<X509Certificate> serverTrust = Pem.readCertificates(api.settings().ca().value());

        api.call("POST", "clients", Map.of(),
                Json.object().put("name", name).put("identity", clientIdentity).put("admin", admin));
        JsonNode issued;
        KeyPair keyPair = KeyPairs.generateP256();
        try {
            String csr = CsrBuilder.toPem(CsrBuilder.create(keyPair, clientIdentity));
            issued = api.call("POST", "ca/sign", Map.of(),
                    Json.object().put("client", name).put("csr", csr).put("ttl", ttl));
            List<X509Certificate> chain = Pem.parseCertificates(Json.text(issued, "chain", ""), "the server's certificate");
            createOwnerOnlyFolder(folder, parents);
            Pem.writePrivateKey(keyFile, keyPair.getPrivate());
            Pem.writeCertificates(certFile, chain);
            Pem.writeCertificates(caFile, serverTrust);
        } catch (CliException | IllegalArgumentException | IOException | java.io.UncheckedIOException e) {
            // Without its certificate the client record is useless; remove it so a retry starts clean.
            String cleanup;
            try {
                ApiReply removed = api.send("DELETE", "clients/" + name, Map.of(), null, TresorClient.JSON);
                cleanup = removed.ok() ? "the client was removed again"
                        : "removing the client failed too; remove it with: tresor client rm " + name;
            } catch (CliException removalFailure) {
                cleanup = "removing the client failed too; remove it with: tresor client rm " + name;
            }
            int code = e instanceof CliException known ? known.exitCode() : ExitCodes.ERROR;
            throw new CliException(code, "could not issue a certificate for " + name + ": " + e.getMessage()
                    + " (" + cleanup + ")");
        }
        if (output.structured()) {
            var answer = Json.object().put("name", name).put("identity", clientIdentity).put("admin", admin)
                    .put("notAfter", Json.text(issued, "notAfter", null)).put("serial", Json.text(issued, "serial", null));
            answer.putObject("files").put("cert", certFile.toString()).put("key", keyFile.toString()).put("ca", caFile.toString());
            output.print(out(), answer);
            return ExitCodes.OK;
        }
        PrintStream out = out();
        out.println("created client " + name + " (" + clientIdentity + (admin ? ", admin" : "") + "), certificate valid until "
                + Json.text(issued, "notAfter", "?"));
        out.println("  " + certFile + "   certificate chain");
        out.println("  " + keyFile + "   private key (mode 0600)");
        out.println("  " + caFile + "   CA bundle for the server");
        out.println();
        out.println("To act as " + name + ":");
        for (String line : ShellExports.lines(api.settings().address().value().toString(), certFile, keyFile, caFile)) {
            out.println(line);
        }
        if (!admin) {
            out.println();
            out.println("It can read nothing yet; grant it a group:  tresor grant --client " + name + " --group GROUP");
        }
        return ExitCodes.OK;
    }

    /** The trust domain of our own certificate's SPIFFE ID, so new clients land in the same one. */
    static String trustDomainOf(ConnectionSettings settings) {
        try {
            String own = Identities.identityOf(Pem.readCertificates(settings.cert().value()).getFirst());
            return Identities.isUri(own) ? Identities.trustDomainOf(own) : "tresor.local";
        } catch (IllegalArgumentException e) {
            return "tresor.local";
        }
    }

    private static void createOwnerOnlyFolder(Path folder, boolean parents) throws IOException {
        if (Files.isDirectory(folder)) {
            return;
        }
        if (parents) {
            Files.createDirectories(folder);
        } else {
            Files.createDirectory(folder);
        }
        try {
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // Not POSIX: the key file itself is still written owner-only where the platform allows.
        }
    }
}
