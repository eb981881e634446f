package dev.tresor.rotation.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tresor.rotation.Passwords;
import dev.tresor.rotation.RotationEngine;
import dev.tresor.rotation.RotationListener;
import dev.tresor.rotation.RotationReport;
import dev.tresor.rotation.RunOptions;
import dev.tresor.rotation.StepHook;
import dev.tresor.rotation.StepResult;
import dev.tresor.rotation.TresorApi;
import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.config.RotationConfigLoader;
import dev.tresor.rotation.consumer.Consumers;
import dev.tresor.rotation.consumer.KubernetesAccess;
import dev.tresor.rotation.target.Targets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One application's rotation set up from scratch, the way an operator would: a database with an
 * admin user, the slot and admin secrets in Tresor, the OpenEMR sqlconf.php template as the file
 * consumer, a reload command, the app's health check, and the rotation YAML. Names carry {@code id}
 * so the rigs of one test class never share users, roles, databases or secrets.
 */
final class RotationRig implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path TEMPLATE = Path.of("../examples/openemr/sqlconf.php.tmpl");

    final TestDatabase db;
    final TresorFixture tresor;
    final Path dir;
    final String id;
    final String slotSecret;
    final String adminSecret;
    final String userA;
    final String userB;
    final String admin;
    final String role;
    final String database;
    final Path file;
    final Path config;
    final FakeApp app;
    private final String initialAdminPassword;

    RotationRig(TestDatabase db, TresorFixture tresor, Path dir, String id) throws Exception {
        this.db = db;
        this.tresor = tresor;
        this.dir = dir;
        this.id = id;
        this.slotSecret = "rot/" + id + "/db-slots";
        this.adminSecret = "rot/" + id + "/db-admin";
        this.userA = "app_a_" + id;
        this.userB = "app_b_" + id;
        this.admin = "admin_" + id;
        this.role = "app_role_" + id;
        this.database = "appdb_" + id;
        this.file = dir.resolve("sqlconf.php");
        this.config = dir.resolve("rotation.yaml");
        Passwords passwords = new Passwords(new SecureRandom());
        this.initialAdminPassword = passwords.next();
        db.prepare(database, admin, initialAdminPassword, userA, userB);
        ObjectNode slots = JSON.createObjectNode();
        slots.put("active_slot", "B");
        slots.set("A", login(userA, passwords.next()));
        slots.set("B", login(userB, passwords.next()));
        tresor.createSecret(slotSecret, JSON.writeValueAsString(slots));
        tresor.createSecret(adminSecret, JSON.writeValueAsString(login(admin, initialAdminPassword)));
        this.app = new FakeApp(file, db);
        writeConfig(db.gateProbe(), "200ms");
    }

    private ObjectNode login(String user, String password) {
        ObjectNode n = JSON.createObjectNode();
        n.put("username", user);
        n.put("password", password);
        n.put("host", "127.0.0.1");
        n.put("port", db.port());
        n.put("dbname", database);
        return n;
    }

    void writeConfig(String validationSql, String drain) throws IOException {
        writeConfig(validationSql, drain, "", null);
    }

    /** With extra consumers (YAML list items, two-space indented) and a kubeconfig for kubernetes-* consumers. */
    void writeConfig(String validationSql, String drain, String extraConsumers, Path kubeconfig) throws IOException {
        Files.writeString(config, (kubeconfig == null ? "" : "kubernetes:\n  kubeconfig: " + kubeconfig + "\n") + """
                name: rot-%s
                target:
                  kind: %s
                  tls:
                    mode: %s
                    ca: %s
                  role: %s
                %ssecrets:
                  slots: %s
                  admin: %s
                consumers:
                  - kind: file
                    path: %s
                    templateFile: %s
                    mode: "0640"
                  - kind: command
                    command: ["/bin/sh", "-c", "echo reload $TRESOR_ROTATION_SLOT >> %s"]
                    timeout: 10s
                  - kind: http-check
                    url: http://127.0.0.1:%d/health
                    expectStatus: 200
                %svalidation:
                  sql: "%s"
                timeouts:
                  connect: 5s
                  appReady: 5s
                  drain: %s
                """.formatted(id, db.kind(), db.tlsMode(), db.caFile(), role, db.grantsYaml(), slotSecret, adminSecret, file,
                TEMPLATE.toAbsolutePath().normalize(), dir.resolve("reloads.log"), app.port(), extraConsumers, validationSql, drain));
    }

    RotationConfig loadConfig() {
        return RotationConfigLoader.load(config);
    }

    /** Runs the rotation in this JVM. */
    RotationReport run(RunOptions options, StepHook hook) {
        RotationConfig c = loadConfig();
        List<String> lines = new ArrayList<>();
        try (TresorApi api = TresorApi.open(tresor.rotatorConnection()); KubernetesAccess kubernetes = new KubernetesAccess(c.kubernetes())) {
            RotationEngine engine = new RotationEngine(c, api, Targets.create(c.target(), c.timeouts().connect()),
                    Consumers.create(c.consumers(), kubernetes), new Passwords(new SecureRandom()), new RotationListener() {
                        @Override
                        public void step(StepResult result) {
                            lines.add(result.line());
                        }

                        @Override
                        public void warning(String message) {
                            lines.add("warning: " + message);
                        }
                    }, hook);
            RotationReport report = engine.run(options);
            System.out.println("--- rotation " + id + (options.dryRun() ? " (dry run)" : "") + "\n" + String.join("\n", lines)
                    + (report.ok() ? "" : "\nerror: " + report.error()));
            return report;
        }
    }

    RotationReport run() {
        return run(new RunOptions(false, false), StepHook.NONE);
    }

    RotationEngine engine(TresorApi api) {
        RotationConfig c = loadConfig();
        KubernetesAccess kubernetes = new KubernetesAccess(c.kubernetes());
        return new RotationEngine(c, api, Targets.create(c.target(), c.timeouts().connect()), Consumers.create(c.consumers(), kubernetes),
                new Passwords(new SecureRandom()), RotationListener.SILENT, StepHook.NONE);
    }

    /** Result of a rotation subprocess. */
    record ProcessResult(int exitCode, String output) {}

    /** Runs the rotation as a separate JVM (the fault matrix kills it with SIGKILL via the crash hook). */
    ProcessResult runProcess(Map<String, String> env) throws Exception {
        var conn = tresor.rotatorConnection();
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
                // A class-data archive made by the first child and mapped by the next ones: halves their start-up.
                "-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=" + Path.of("target", "rotation-child.jsa").toAbsolutePath(),
                "-Xlog:cds=off", "-Xlog:cds+dynamic=off",
                "-cp", System.getProperty("java.class.path"), RotationProcessMain.class.getName(),
                config.toString(), conn.address().toString(), conn.cert().toString(), conn.key().toString(), conn.ca().toString());
        Path out = Files.createTempFile(dir, "run-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new AssertionError("rotation process did not end in 120 s:\n" + Files.readString(out));
            }
            return new ProcessResult(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }

    JsonNode slots() {
        return tresor.value(slotSecret);
    }

    JsonNode adminLogin() {
        return tresor.value(adminSecret);
    }

    String password(String slot) {
        return slots().path(slot).path("password").asText();
    }

    String user(String slot) {
        return slot.equals("A") ? userA : userB;
    }

    /** The version of {@code name} labelled pending if it is newer than current (an unfinished write-ahead), else 0. */
    int outstandingPending(String name) {
        JsonNode versions = tresor.admin("GET", "/v1/secrets/" + name + "/versions", null).path("versions");
        int current = 0;
        int pending = 0;
        for (JsonNode v : versions) {
            for (JsonNode l : v.path("labels")) {
                if (l.asText().equals("current")) {
                    current = v.path("version").asInt();
                }
                if (l.asText().equals("pending")) {
                    pending = v.path("version").asInt();
                }
            }
        }
        return pending > current ? pending : 0;
    }

    /**
     * Converged: both slot users log in with the stored passwords, the consumer file holds the active
     * slot's stored credentials, no write-ahead is outstanding, and the stored admin password logs in.
     */
    void assertConverged() throws IOException {
        JsonNode slots = slots();
        String active = slots.path("active_slot").asText();
        for (String s : List.of("A", "B")) {
            assertThat(db.canLogin(user(s), slots.path(s).path("password").asText(), database))
                    .as("slot %s logs in with its stored password", s).isTrue();
        }
        SqlConf conf = SqlConf.read(file);
        assertThat(conf.login()).as("consumer file user").isEqualTo(user(active));
        assertThat(conf.pass()).as("consumer file holds the active slot's stored password").isEqualTo(slots.path(active).path("password").asText());
        assertThat(outstandingPending(slotSecret)).as("outstanding pending version of the slot secret").isZero();
        assertThat(outstandingPending(adminSecret)).as("outstanding pending version of the admin secret").isZero();
        assertThat(db.canLogin(admin, adminLogin().path("password").asText(), database)).as("stored admin password logs in").isTrue();
    }

    String fileMode() throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    @Override
    public void close() {
        app.close();
    }
}
