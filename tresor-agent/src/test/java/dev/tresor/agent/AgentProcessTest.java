package dev.tresor.agent;

import dev.tresor.testkit.Await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tresor.agent.cli.AgentMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real agent process (java ... AgentMain) against a real server: SIGKILL mid-render, exec mode. */
class AgentProcessTest {

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;
    Rig rig;
    final List<Process> processes = new ArrayList<>();
    final java.util.Map<Object, Path> logs = new java.util.HashMap<>();

    private String logOf(Process p) {
        return read(logs.get(p));
    }

    @BeforeEach
    void start() throws Exception {
        rig = Rig.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
        rig.close();
    }

    /** A value of {@code size} bytes that says which version it is on every line, so a torn file is obvious. */
    static String value(String version, int size) {
        StringBuilder s = new StringBuilder(size);
        while (s.length() < size) {
            s.append(version).append(':').append("0123456789abcdef".repeat(4)).append('\n');
        }
        return s.toString();
    }

    private Process agent(Path config, List<String> jvmArgs, List<String> args) throws IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classPath, AgentMain.class.getName(), "--config", config.toString()));
        command.addAll(args);
        Path log = Files.createTempFile(rig.work, "agent-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(process);
        logs.put(process, log);
        return process;
    }

    private int runToEnd(Process p) throws InterruptedException {
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("agent finished").isTrue();
        return p.exitValue();
    }

    private List<String> visibleFiles() throws IOException {
        try (Stream<Path> files = Files.list(rig.shm)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    private List<Path> tempFiles() throws IOException {
        try (Stream<Path> files = Files.list(rig.shm)) {
            return files.filter(f -> f.getFileName().toString().startsWith(".tresor-agent-")).toList();
        }
    }

    @Test
    void aSigkillMidRenderLeavesOnlyWholeFilesAndTheNextStartCleansUp() throws Exception {
        int size = 768 * 1024;
        rig.put("app/big", value("v1", size));
        rig.put("app/small", "s1");
        Path config = rig.config("""
                secrets:
                  - secret: app/big
                    file: big
                  - secret: app/small
                    file: small
                """);
        assertThat(runToEnd(agent(config, List.of(), List.of("--once")))).isZero();
        assertThat(rig.read("big")).isEqualTo(value("v1", size));

        rig.put("app/big", value("v2", size));
        rig.put("app/small", "s2");
        Path marker = rig.work.resolve("mid-render");
        Process doomed = agent(config, List.of("-Dtresor.agent.test.pauseMidWrite=" + marker), List.of("--once"));
        Await.until("the agent is half-way through writing a file", () -> Files.exists(marker) && !read(marker).isEmpty());
        Path temp = Path.of(read(marker));
        assertThat(Files.size(temp)).as("the temporary file is half written").isGreaterThan(0).isLessThan(size);
        doomed.destroyForcibly(); // SIGKILL
        assertThat(doomed.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(doomed.exitValue()).isEqualTo(137);

        // What an application can see: the old whole file, never the half-written one.
        assertThat(visibleFiles()).containsExactly("big", "small");
        assertThat(rig.read("big")).isEqualTo(value("v1", size));
        assertThat(rig.read("small")).isIn("s1", "s2");
        assertThat(tempFiles()).containsExactly(temp);

        Process restarted = agent(config, List.of(), List.of("--once"));
        assertThat(runToEnd(restarted)).isZero();
        assertThat(tempFiles()).as("after a restart; its log:\n" + logOf(restarted)).isEmpty();
        assertThat(rig.read("big")).isEqualTo(value("v2", size));
        assertThat(rig.read("small")).isEqualTo("s2");
    }

    @Test
    void sigkillsAtRandomMomentsOfContinuousRenderingNeverExposeATornFile() throws Exception {
        int size = 512 * 1024;
        rig.put("app/big", value("v0", size));
        Path config = rig.config("""
                secrets:
                  - secret: app/big
                    file: big
                """.replace("debounce: 50ms", "debounce: 0ms"));
        java.util.Random random = new java.util.Random();
        java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        for (int round = 1; round <= 3; round++) {
            Process agent = agent(config, List.of(), List.of());
            Await.until("round " + round + ": the agent is in sync", () -> "ok".equals(rig.status(config).path("state").asText())
                    && rig.read("big") != null);
            java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread writer = Thread.ofPlatform().start(() -> {
                while (writing.get()) {
                    int v = written.incrementAndGet();
                    rig.put("app/big", value("v" + v, size));
                }
            });
            try {
                // Kill after the file changed 1-3 times under a continuous stream of new versions.
                int changes = 1 + random.nextInt(3);
                int[] seen = {0};
                String[] last = {firstLine(rig.read("big"))};
                Await.until("round " + round + ": the file changed " + changes + " times", () -> {
                    String now = firstLine(rig.read("big"));
                    if (now != null && !now.equals(last[0])) {
                        seen[0]++;
                        last[0] = now;
                    }
                    return seen[0] >= changes;
                });
                agent.destroyForcibly();
                assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                writing.set(false);
                writer.join();
            }
            String content = rig.read("big");
            String tag = firstLine(content).substring(0, firstLine(content).indexOf(':'));
            assertThat(content).as("round " + round + ": the visible file is one whole version").isEqualTo(value(tag, size));
            assertThat(visibleFiles()).containsExactly("big");
        }
        assertThat(runToEnd(agent(config, List.of(), List.of("--once")))).isZero();
        assertThat(tempFiles()).isEmpty();
        assertThat(rig.read("big")).isEqualTo(value("v" + written.get(), size));
    }

    private static String firstLine(String text) {
        return text == null || text.indexOf('\n') < 0 ? null : text.substring(0, text.indexOf('\n'));
    }

    @Test
    void execModeInjectsSecretsAsEnvRestartsOnChangeAndExitsWithTheAppsCode() throws Exception {
        rig.put("app/db-password", "first-pw");
        rig.put("app/cert", "CERT-1");
        Path seen = rig.work.resolve("seen.log");
        Path config = rig.config("""
                secrets:
                  - secret: app/db-password
                    env: DB_PASSWORD
                  - secret: app/cert
                    file: cert.pem
                exec:
                  onChange: restart
                  stopTimeout: 20s
                """);
        String app = "echo \"pw=$DB_PASSWORD cert=$(cat " + rig.shm.resolve("cert.pem") + ")\" >> " + seen
                + "; trap 'exit 7' TERM; while :; do sleep 0.05; done";
        Process agent = agent(config, List.of(), List.of("--", "/bin/sh", "-c", app));
        Await.until("the app started with its secrets", () -> lines(seen).size() == 1);
        assertThat(lines(seen)).containsExactly("pw=first-pw cert=CERT-1");
        // Env-only secrets are never written to the folder.
        assertThat(visibleFiles()).containsExactly("cert.pem");

        rig.put("app/db-password", "second-pw");
        Await.until("the app was restarted with the new variable", () -> lines(seen).size() == 2);
        assertThat(lines(seen).get(1)).isEqualTo("pw=second-pw cert=CERT-1");
        assertThat(agent.isAlive()).isTrue();

        agent.destroy(); // SIGTERM to the agent: forwarded, the app exits 7, so does the agent
        assertThat(agent.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(agent.exitValue()).isEqualTo(7);
    }

    @Test
    void execModeCanSignalTheAppInsteadOfRestartingIt() throws Exception {
        rig.put("app/conf", "c1");
        Path seen = rig.work.resolve("hups.log");
        Path config = rig.config("""
                secrets:
                  - secret: app/conf
                    file: app.conf
                exec:
                  onChange: signal
                  signal: HUP
                """);
        Path file = rig.shm.resolve("app.conf");
        String app = "echo \"start $(cat " + file + ")\" >> " + seen + "; trap 'echo \"hup $(cat " + file + ")\" >> " + seen
                + "' HUP; trap 'exit 0' TERM; while :; do sleep 0.05; done";
        Process agent = agent(config, List.of(), List.of("--", "/bin/sh", "-c", app));
        Await.until("the app started", () -> lines(seen).size() == 1);
        rig.put("app/conf", "c2");
        Await.until("the app got SIGHUP after the file changed", () -> lines(seen).size() == 2);
        assertThat(lines(seen)).containsExactly("start c1", "hup c2");
        agent.destroy();
        assertThat(agent.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(agent.exitValue()).isZero();
    }

    @Test
    void execModeExitsWithTheCodeOfAnAppThatStopsOnItsOwn() throws Exception {
        rig.put("app/token", "t");
        Path config = rig.config("""
                secrets:
                  - secret: app/token
                    env: TOKEN
                """);
        Process agent = agent(config, List.of(), List.of("--", "/bin/sh", "-c", "test \"$TOKEN\" = t && exit 42"));
        assertThat(runToEnd(agent)).isEqualTo(42);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }
}
