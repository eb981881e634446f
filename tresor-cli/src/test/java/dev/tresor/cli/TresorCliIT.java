package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tresor.ca.CertificateAuthority;
import dev.tresor.ca.IssuedCertificate;
import dev.tresor.ca.KeyPairs;
import dev.tresor.ca.Pem;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * End to end: the real {@code bin/tresor} launcher and the shaded jar, as a user runs them. One
 * {@code tresor dev} server (a subprocess, stopped by PID at the end) serves the whole class; the
 * tests run in order because they build on each other (admin sets up, app1 reads, the log is
 * verified after the server stopped).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TresorCliIT {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path moduleDir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    private final Path launcher = moduleDir.resolveSibling("bin").resolve("tresor");
    private final Path jar = moduleDir.resolve("target").resolve("tresor.jar");

    private Path work;
    private Path devDir;
    private Process devServer;
    private Map<String, String> admin;
    private Map<String, String> app1;

    record Result(int exitCode, String out, String err) {
        String all() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    @BeforeAll
    void startDevServer() throws Exception {
        if (!Files.isRegularFile(jar)) {
            fail(jar + " is missing: the CLI tests need the shaded jar (mvn package runs before failsafe)");
        }
        if (!Files.isExecutable(launcher)) {
            fail(launcher + " is missing or not executable");
        }
        work = Files.createTempDirectory("tresor-cli-it");
        devDir = work.resolve("dev");
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "dev", "--dir", devDir.toString(),
                "--port", "0", "--management-port", "0");
        builder.environment().putAll(baseEnvironment());
        builder.redirectError(work.resolve("dev.err").toFile());
        devServer = builder.start();
        admin = readExports(devServer);
        assertThat(admin).containsKeys("TRESOR_ADDR", "TRESOR_CERT", "TRESOR_KEY", "TRESOR_CA");
        assertThat(Files.readString(devDir.resolve("env.sh"))).contains("export TRESOR_ADDR=" + admin.get("TRESOR_ADDR"));
    }

    @AfterAll
    void stopDevServer() throws InterruptedException {
        if (devServer != null && devServer.isAlive()) {
            devServer.destroy();
            if (!devServer.waitFor(30, TimeUnit.SECONDS)) {
                devServer.destroyForcibly();
            }
        }
    }

    /** Reads the dev server's stdout until the four export lines have appeared. */
    private Map<String, String> readExports(Process process) throws IOException {
        Map<String, String> exports = new HashMap<>();
        List<String> seen = new ArrayList<>();
        BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String line;
        while (exports.size() < 4 && System.nanoTime() < deadline && (line = lines.readLine()) != null) {
            seen.add(line);
            if (line.startsWith("export TRESOR_")) {
                int equals = line.indexOf('=');
                exports.put(line.substring("export ".length(), equals), line.substring(equals + 1));
            }
        }
        if (exports.size() < 4) {
            fail("tresor dev did not print its export lines; stdout:\n" + String.join("\n", seen) + "\nstderr:\n"
                    + Files.readString(work.resolve("dev.err")));
        }
        // Keep draining so the server never blocks on a full pipe.
        Thread.ofVirtual().start(() -> {
            try {
                while (lines.readLine() != null) {
                    // discard
                }
            } catch (IOException ignored) {
                // the server stopped
            }
        });
        return exports;
    }

    /** The environment every tresor run gets: no TRESOR_* from the machine, a private HOME, no rebuild, no AOT training. */
    private Map<String, String> baseEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", work.toString());
        // Maven built the jar a moment ago; a source edited meanwhile must not trigger a rebuild mid-build.
        env.put("TRESOR_NO_BUILD", "1");
        // The AOT cache's background training would compete with these tests for two cores.
        env.put("TRESOR_AOT", "0");
        return env;
    }

    private Result tresorWithStdin(Map<String, String> env, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("TRESOR_"));
        builder.environment().putAll(baseEnvironment());
        builder.environment().putAll(env);
        Path out = Files.createTempFile(work, "out", ".txt");
        Path err = Files.createTempFile(work, "err", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        try (var in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("tresor " + String.join(" ", args) + " did not finish within " + COMMAND_TIMEOUT);
        }
        Result result = new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        assertThat(result.err()).as("no stack traces: " + String.join(" ", args)).doesNotContain("\tat ", "Exception in thread");
        return result;
    }

    private Result tresor(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return tresorWithStdin(env, null, args);
    }

    private static Map<String, String> with(Map<String, String> env, String name, String value) {
        Map<String, String> copy = new HashMap<>(env);
        copy.put(name, value);
        return copy;
    }

    private Result ok(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Result result = tresor(env, args);
        assertThat(result.exitCode()).as(result.all()).isZero();
        return result;
    }

    // ------------------------------------------------------------------ as the admin

    @Test
    @Order(1)
    void adminSetsUpAGroupSecretsAndAClient() throws Exception {
        assertThat(ok(admin, "whoami").out()).contains("admin:     yes");
        assertThat(ok(admin, "group", "create", "app", "--description", "the app").out()).contains("created group app");
        assertThat(ok(admin, "secret", "put", "db/password", "--value", "s3cret", "--group", "app").out())
                .isEqualTo("stored db/password version 1\n");

        Result fromStdin = tresorWithStdin(admin, "from-stdin", "secret", "put", "db/token", "-", "--group", "app");
        assertThat(fromStdin.exitCode()).as(fromStdin.all()).isZero();
        assertThat(fromStdin.out()).isEqualTo("stored db/token version 1\n").doesNotContain("from-stdin");

        Path certs = work.resolve("app1-certs");
        Result created = ok(admin, "client", "create", "app1", "--out", certs.toString());
        assertThat(created.out()).contains("created client app1 (spiffe://tresor.local/client/app1)")
                .contains("export TRESOR_CERT=" + certs.resolve("app1.crt"));
        assertThat(Files.getPosixFilePermissions(certs.resolve("app1.key")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThat(ok(admin, "grant", "--client", "app1", "--group", "app").out()).contains("client app1 is in group app (read)");

        // The list tables: a header, then one aligned row per entry with its name first.
        assertThat(ok(admin, "group", "ls").out()).containsPattern("(?m)^NAME +DESCRIPTION +CREATED +BY$")
                .containsPattern("(?m)^app +the app +\\S+ +admin$");
        assertThat(ok(admin, "client", "ls").out()).containsPattern("(?m)^NAME +IDENTITY +ADMIN +GROUPS$")
                .containsPattern("(?m)^app1 +spiffe://tresor.local/client/app1 +no +app \\(read\\)$")
                .containsPattern("(?m)^admin +\\S+ +yes +");

        // Writes answer with the server's JSON or YAML for scripts (-o json|yaml, --json).
        JsonNode stored = JSON.readTree(ok(admin, "secret", "put", "db/scratch", "--value", "x", "--json").out());
        assertThat(stored.get("version").asInt()).isEqualTo(1);
        assertThat(ok(admin, "secret", "put", "db/scratch", "--value", "y", "-o", "yaml").out())
                .containsPattern("(?m)^version: 2$").containsPattern("(?m)^name: db/scratch$");
        assertThat(ok(admin, "group", "ls", "-o", "yaml").out()).contains("- name: app");
        Result disagree = tresor(admin, "group", "ls", "--json", "-o", "yaml");
        assertThat(disagree.exitCode()).as(disagree.all()).isEqualTo(ExitCodes.USAGE);
        // --destroy is irreversible: without a terminal to ask on, only --yes goes ahead.
        Result unconfirmed = tresor(admin, "secret", "rm", "db/scratch", "--destroy");
        assertThat(unconfirmed.exitCode()).as(unconfirmed.all()).isEqualTo(ExitCodes.USAGE);
        assertThat(unconfirmed.err()).contains("--yes");
        assertThat(JSON.readTree(ok(admin, "secret", "versions", "db/scratch", "--json").out()).get("versions")).hasSize(2);
        assertThat(ok(admin, "secret", "rm", "db/scratch", "--destroy", "--yes").out()).contains("destroyed db/scratch");

        app1 = new HashMap<>(admin);
        app1.put("TRESOR_CERT", certs.resolve("app1.crt").toString());
        app1.put("TRESOR_KEY", certs.resolve("app1.key").toString());
        app1.put("TRESOR_CA", certs.resolve("ca.crt").toString());
    }

    // ------------------------------------------------------------------ as app1

    @Test
    @Order(2)
    void app1ReadsWhatItsGroupGrants() throws Exception {
        assertThat(ok(app1, "secret", "get", "db/password").out()).isEqualTo("s3cret\n");
        assertThat(ok(app1, "secret", "get", "db/token", "--raw").out()).isEqualTo("from-stdin");

        JsonNode me = JSON.readTree(ok(app1, "whoami", "--json").out());
        assertThat(me.get("name").asText()).isEqualTo("app1");
        assertThat(me.get("admin").asBoolean()).isFalse();

        JsonNode list = JSON.readTree(ok(app1, "secret", "ls", "--json").out());
        List<String> names = new ArrayList<>();
        list.get("secrets").forEach(s -> names.add(s.get("name").asText()));
        assertThat(names).contains("db/password", "db/token");

        Path out = work.resolve("read/password.txt");
        Result noFolder = tresor(app1, "secret", "get", "db/password", "--out", out.toString());
        assertThat(noFolder.exitCode()).as(noFolder.all()).isEqualTo(ExitCodes.USAGE);
        assertThat(noFolder.err()).contains("does not exist").contains("--parents");
        assertThat(out.getParent()).doesNotExist();
        Result written = ok(app1, "secret", "get", "db/password", "--out", out.toString(), "--parents");
        assertThat(written.out()).isEmpty();
        assertThat(Files.readString(out)).isEqualTo("s3cret");
        assertThat(Files.getPosixFilePermissions(out).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
    }

    @Test
    @Order(2)
    void app1MountsWhatItMayReadAndSigtermUnmounts() throws Exception {
        Path dir = Files.createDirectories(work.resolve("mnt"));
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "mount", dir.toString());
        builder.environment().keySet().removeIf(name -> name.startsWith("TRESOR_"));
        builder.environment().putAll(baseEnvironment());
        builder.environment().putAll(app1);
        Path err = work.resolve("mount.err");
        builder.redirectOutput(work.resolve("mount.out").toFile()).redirectError(err.toFile());
        Process mount = builder.start();
        try {
            Path file = dir.resolve("db/password");
            long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
            while (!Files.exists(file)) {
                assertThat(mount.isAlive()).as("tresor mount died: " + Files.readString(err)).isTrue();
                assertThat(System.nanoTime()).as("tresor mount did not show db/password: " + Files.readString(err)).isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(Files.readString(file)).isEqualTo("s3cret");
            assertThat(Files.readString(dir.resolve("db/token"))).isEqualTo("from-stdin");

            Result twice = tresor(app1, "mount", dir.toString());
            assertThat(twice.exitCode()).as(twice.all()).isEqualTo(ExitCodes.ERROR);
            assertThat(twice.err()).contains("already a mount point", "fusermount3 -u");
        } finally {
            mount.destroy();
            if (!mount.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                mount.destroyForcibly();
            }
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
        assertThat(Files.readString(err)).contains("mounted read-only at " + dir, "unmounted " + dir);
    }

    @Test
    @Order(3)
    void deniedAndMissingHaveTheirOwnExitCodes() throws Exception {
        Result put = tresor(app1, "secret", "put", "db/password", "--value", "mine");
        assertThat(put.exitCode()).as(put.all()).isEqualTo(ExitCodes.DENIED);
        assertThat(put.err()).startsWith("tresor: ").contains("(request id ");

        // A non-admin cannot tell a missing secret from a forbidden one...
        Result missingForApp = tresor(app1, "secret", "get", "missing");
        assertThat(missingForApp.exitCode()).as(missingForApp.all()).isEqualTo(ExitCodes.DENIED);
        // ...an admin can.
        Result missingForAdmin = tresor(admin, "secret", "get", "missing");
        assertThat(missingForAdmin.exitCode()).as(missingForAdmin.all()).isEqualTo(ExitCodes.NOT_FOUND);

        Result conflict = tresor(admin, "group", "create", "app");
        assertThat(conflict.exitCode()).as(conflict.all()).isEqualTo(ExitCodes.ERROR);
    }

    @Test
    @Order(4)
    void anExpiredVersionIsGoneUnlessAskedFor() throws Exception {
        ok(admin, "secret", "put", "short/lived", "--value", "brief", "--ttl", "1s", "--group", "app");
        Thread.sleep(1500);
        Result gone = tresor(app1, "secret", "get", "short/lived");
        assertThat(gone.exitCode()).as(gone.all()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(gone.err()).contains("expired").contains("--allow-expired");
        assertThat(ok(app1, "secret", "get", "short/lived", "--allow-expired").out()).isEqualTo("brief\n");
    }

    @Test
    @Order(6)
    void aWrongCaBundleIsReportedAsSuch() throws Exception {
        Path otherCa = work.resolve("other-ca.crt");
        CertificateAuthority other = CertificateAuthority.create("other.test", Duration.ofDays(1), Clock.systemUTC());
        Pem.writeCertificates(otherCa, List.of(other.certificate()));
        Result result = tresor(with(app1, "TRESOR_CA", otherCa.toString()), "secret", "get", "db/password");
        assertThat(result.exitCode()).as(result.all()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(result.err()).contains("not trusted by TRESOR_CA (" + otherCa + ")").contains("check TRESOR_CA");
        assertThat(result.out()).isEmpty();
    }

    @Test
    @Order(7)
    void anExpiredClientCertificateIsRefused() throws Exception {
        // Issued by the dev CA itself, with a clock four minutes back and a one-minute lifetime:
        // it chains correctly but expired three minutes ago (the CA predates it by its 5-minute skew allowance).
        CertificateAuthority devCa = CertificateAuthority.load(devDir.resolve("ca.crt"), devDir.resolve("ca.key"),
                dev.tresor.crypto.LocalKeyProvider.load(devDir.resolve("kek.json")), Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-4)));
        KeyPair keys = KeyPairs.generateP256();
        IssuedCertificate expired = devCa.issueClient(keys.getPublic(), "spiffe://tresor.local/client/app1", Duration.ofMinutes(1));
        assertThat(expired.certificate().getNotAfter().toInstant()).isBefore(Instant.now());
        Path cert = work.resolve("expired.crt");
        Path key = work.resolve("expired.key");
        Pem.writeCertificates(cert, expired.chain());
        Pem.writePrivateKey(key, keys.getPrivate());

        Map<String, String> env = with(with(app1, "TRESOR_CERT", cert.toString()), "TRESOR_KEY", key.toString());
        Result result = tresor(env, "secret", "get", "db/password");
        assertThat(result.exitCode()).as(result.all()).isEqualTo(ExitCodes.DENIED);
        assertThat(result.err()).contains("the server refused this client certificate (TRESOR_CERT=" + cert + ")")
                .contains("expired").contains("tresor token create --identity").contains("tresor cert join");
        assertThat(result.out()).isEmpty();
    }

    @Test
    @Order(8)
    void theAuditLogShowsApp1sRead() throws Exception {
        JsonNode audit = JSON.readTree(ok(admin, "audit", "tail", "--json", "--limit", "200", "--client", "app1").out());
        boolean sawRead = false;
        for (JsonNode record : audit.get("records")) {
            sawRead |= "secret.read".equals(record.path("action").asText()) && "db/password".equals(record.path("secret").asText())
                    && "allowed".equals(record.path("outcome").asText());
        }
        assertThat(sawRead).as(audit.toString()).isTrue();
        assertThat(tresor(app1, "audit", "tail").exitCode()).isEqualTo(ExitCodes.DENIED);
    }

    @Test
    @Order(9)
    void missingSettingsNameTheVariableToSet() throws Exception {
        Result result = tresor(Map.of(), "secret", "ls");
        assertThat(result.exitCode()).as(result.all()).isEqualTo(ExitCodes.USAGE);
        assertThat(result.err()).contains("TRESOR_ADDR").contains("TRESOR_CA");
        // The launcher makes the JVM's home $HOME (the JDK would take the passwd entry's).
        assertThat(result.err()).contains(work.resolve(".tresor/profile.yaml").toString());
        Path otherHome = Files.createDirectories(work.resolve("other-home"));
        Result elsewhere = tresor(Map.of("HOME", otherHome.toString()), "secret", "ls");
        assertThat(elsewhere.err()).contains(otherHome.resolve(".tresor/profile.yaml").toString());
    }

    // ------------------------------------------------------------------ init and server

    @Test
    @Order(10)
    void initCreatesAFolderAndRefusesToOverwriteOne() throws Exception {
        Path folder = work.resolve("prod");
        Path adminOut = work.resolve("prod-admin");
        Result inside = tresor(Map.of(), "init", folder.toString(), "--admin-out", folder.resolve("clients").toString());
        assertThat(inside.exitCode()).as(inside.all()).isEqualTo(ExitCodes.USAGE);
        assertThat(inside.err()).contains("inside the data folder");
        assertThat(folder).doesNotExist();
        Result noAdminOut = tresor(Map.of(), "init", folder.toString());
        assertThat(noAdminOut.exitCode()).as(noAdminOut.all()).isEqualTo(ExitCodes.USAGE);
        assertThat(noAdminOut.err()).contains("--admin-out");

        Result created = ok(Map.of(), "init", folder.toString(), "--listen", "127.0.0.1:0", "--management", "127.0.0.1:0",
                "--admin", "root", "--admin-out", adminOut.toString(), "--san", "tresor.tresor.svc");
        assertThat(created.out()).contains("tresor server --config " + folder.resolve("tresor.yaml"));
        assertThat(adminOut.resolve("root.key")).exists();
        assertThat(Files.getPosixFilePermissions(adminOut.resolve("root.key")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThat(folder.resolve("clients")).doesNotExist();
        X509Certificate serverCert = dev.tresor.ca.Pem.readCertificates(folder.resolve("server.crt")).getFirst();
        assertThat(serverCert.getSubjectAlternativeNames().stream().map(n -> n.get(1).toString()))
                .contains("tresor.tresor.svc", "localhost");

        Result again = tresor(Map.of(), "init", folder.toString(), "--admin-out", work.resolve("other-admin").toString());
        assertThat(again.exitCode()).as(again.all()).isEqualTo(ExitCodes.ERROR);
        assertThat(again.err()).contains("not empty").contains("refusing");
    }

    @Test
    @Order(11)
    void serverRefusesABrokenConfigNamingTheField() throws Exception {
        Path folder = work.resolve("broken");
        ok(Map.of(), "init", folder.toString(), "--listen", "127.0.0.1:0", "--management", "127.0.0.1:0",
                "--admin-out", work.resolve("broken-admin").toString());
        String config = Files.readString(folder.resolve("tresor.yaml"));

        Files.writeString(folder.resolve("unknown-field.yaml"), config.replace("listen:\n", "listen:\n  bogus: 1\n"));
        Result unknown = tresor(Map.of(), "server", "--config", folder.resolve("unknown-field.yaml").toString());
        assertThat(unknown.exitCode()).as(unknown.all()).isEqualTo(ExitCodes.ERROR);
        assertThat(unknown.err()).contains("listen.bogus").contains("unknown field");

        Files.writeString(folder.resolve("missing-file.yaml"), config.replace("cert: server.crt", "cert: nowhere.crt"));
        Result missing = tresor(Map.of(), "server", "--config", folder.resolve("missing-file.yaml").toString());
        assertThat(missing.exitCode()).as(missing.all()).isEqualTo(ExitCodes.ERROR);
        assertThat(missing.err()).contains("tls.cert").contains("nowhere.crt");

        Result noConfig = tresor(Map.of(), "server", "--config", folder.resolve("absent.yaml").toString());
        assertThat(noConfig.exitCode()).as(noConfig.all()).isEqualTo(ExitCodes.ERROR);
        assertThat(noConfig.err()).contains("does not exist");
    }

    @Test
    @Order(12)
    void serverRunsAnInitFolderUntilTerminated() throws Exception {
        Path folder = work.resolve("prod");
        // JSON lines at debug for Tresor and every library the config allows: still never a value.
        String config = Files.readString(folder.resolve("tresor.yaml"));
        assertThat(config).contains("logging:\n  format: text\n  level: info ");
        Files.writeString(folder.resolve("tresor.yaml"), config.replace("logging:\n  format: text\n  level: info ",
                "logging:\n  levels:\n    org.flywaydb: debug\n    com.zaxxer.hikari: debug\n  format: json\n  level: debug "));
        String value = "never-in-the-log-" + java.util.UUID.randomUUID();
        ProcessBuilder builder = new ProcessBuilder(launcher.toString(), "server", "--config",
                folder.resolve("tresor.yaml").toString());
        builder.environment().putAll(baseEnvironment());
        builder.redirectError(work.resolve("server.err").toFile());
        Process server = builder.start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String banner = lines.readLine();
            assertThat(banner).as("server banner; stderr: " + Files.readString(work.resolve("server.err")))
                    .startsWith("Tresor is running: API https://127.0.0.1:");
            String address = banner.substring(banner.indexOf("https://"), banner.indexOf(" (mutual TLS)"));
            Map<String, String> root = Map.of("TRESOR_ADDR", address,
                    "TRESOR_CERT", work.resolve("prod-admin/root.crt").toString(),
                    "TRESOR_KEY", work.resolve("prod-admin/root.key").toString(),
                    "TRESOR_CA", work.resolve("prod-admin/ca.crt").toString());
            assertThat(ok(root, "whoami").out()).contains("name:      root", "admin:     yes");
            ok(root, "group", "create", "logged");
            ok(root, "grant", "--client", "root", "--group", "logged");
            tresorWithStdin(root, value, "secret", "put", "logged/value", "-", "--group", "logged");
            assertThat(ok(root, "secret", "get", "logged/value").out()).isEqualTo(value + "\n");
        } finally {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("server stops on SIGTERM").isTrue();
        }
        String log = Files.readString(work.resolve("server.err"));
        assertThat(log).doesNotContain(value).doesNotContain(java.util.Base64.getEncoder().encodeToString(
                value.getBytes(StandardCharsets.UTF_8)));
        List<JsonNode> records = new ArrayList<>();
        for (String line : log.lines().filter(l -> l.startsWith("{")).toList()) {
            records.add(JSON.readTree(line));
        }
        assertThat(records).as(log).anySatisfy(r -> {
            assertThat(r.path("loggerName").asText()).isEqualTo("dev.tresor.api.ApiHandler");
            assertThat(r.path("level").asText()).isEqualTo("DEBUG");
            assertThat(r.path("mdc").path("requestId").asText()).matches("[0-9a-f]{16}");
            assertThat(r.path("formattedMessage").asText()).contains("secret.write", "logged/value", "root");
        });
        assertThat(ok(Map.of(), "audit", "verify", folder.resolve("audit.log").toString()).out()).contains("closed cleanly");
    }

    @Test
    @Order(13)
    void completionAndHelpWorkThroughTheLauncher() throws Exception {
        assertThat(ok(Map.of(), "completion").out()).contains("complete -F");
        assertThat(ok(Map.of(), "--help").out()).contains("Exit codes:");
        assertThat(ok(Map.of(), "--version").out()).startsWith("tresor ");
    }

    @Test
    @Order(13)
    void longRunningCommandsGetFullCompilationAndClientCommandsTheCheapStart() throws Exception {
        // C1 alone has no AES-GCM intrinsics: a tunnel on the client flags moved 31 MB/s instead of ~690.
        for (String command : List.of("dev", "server", "mount", "tunnel")) {
            List<String> jvm = ok(Map.of("TRESOR_PRINT_JVM", "1"), command, "--help").out().lines().toList();
            assertThat(jvm).as(command).contains("-jar", command).doesNotContain("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
        }
        for (String command : List.of("secret", "agent", "whoami")) {
            List<String> jvm = ok(Map.of("TRESOR_PRINT_JVM", "1"), command, "--help").out().lines().toList();
            assertThat(jvm).as(command).contains("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", command);
        }
    }

    @Test
    @Order(14)
    void theAotTrainingRunSucceeds() throws Exception {
        // What the launcher runs in the background to build its AOT cache: it must pass on its own.
        ok(Map.of(), "__aot-train");
    }

    @Test
    @Order(15)
    void theServerAotTrainingRunSucceeds() throws Exception {
        // The server cache's training (for `tresor dev` and `tresor server`): a server in the training JVM itself.
        ok(Map.of(), "__aot-train", "--server");
    }

    // ------------------------------------------------------------------ after the server stopped

    @Test
    @Order(100)
    void afterStoppingTheAuditLogVerifiesAndTheServerIsUnreachable() throws Exception {
        devServer.destroy();
        assertThat(devServer.waitFor(30, TimeUnit.SECONDS)).as("dev server stops on SIGTERM").isTrue();

        Result verified = ok(Map.of(), "audit", "verify", devDir.resolve("audit.log").toString());
        assertThat(verified.out()).startsWith("OK: ").contains("closed cleanly");

        Path tampered = work.resolve("tampered/audit.log");
        Files.createDirectories(tampered.getParent());
        List<String> lines = new ArrayList<>(Files.readAllLines(devDir.resolve("audit.log")));
        int victim = -1;
        for (int i = lines.size() / 2; i < lines.size() && victim < 0; i++) {
            victim = lines.get(i).contains("\"allowed\"") ? i : -1;
        }
        assertThat(victim).as("an allowed request in the second half of the log").isPositive();
        lines.set(victim, lines.get(victim).replace("\"allowed\"", "\"denied\""));
        Files.write(tampered, lines);
        Result broken = tresor(Map.of(), "audit", "verify", tampered.toString(), "--key", devDir.resolve("kek.json").toString());
        assertThat(broken.exitCode()).as(broken.all()).isEqualTo(ExitCodes.ERROR);
        assertThat(broken.out()).startsWith("BROKEN: ").contains("line ");

        Result unreachable = tresor(admin, "whoami");
        assertThat(unreachable.exitCode()).as(unreachable.all()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(unreachable.err()).contains("cannot reach Tresor at " + admin.get("TRESOR_ADDR"))
                .contains("is the server running? (check TRESOR_ADDR)");
    }
}
