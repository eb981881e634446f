package dev.tresor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 end to end: runs {@code examples/openemr/run.sh --duration 20} as a user would (the real
 * launcher and jar, a real MariaDB, Redis, PHP app, tunnels, agent and rotation) and checks its
 * JSON report. Missing Debian packages fail the test, naming them: a skipped end-to-end run would
 * claim a proof it never made ({@code .ci/run} installs them).
 */
class OpenEmrExampleIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The script's own setup, a 20 s load and the teardown, with room for a loaded CI machine. */
    private static final long TIMEOUT_SECONDS = 240;

    private final Path moduleDir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    private final Path script = moduleDir.resolveSibling("examples").resolve("openemr").resolve("run.sh");

    @Test
    void theWholePlatformUnderLoadFailsNoRequest(@TempDir Path work) throws Exception {
        requireTools();
        Path report = work.resolve("report.json");
        Path output = work.resolve("run.log");
        ProcessBuilder builder = new ProcessBuilder(script.toString(), "--duration", "20", "--report", report.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        // Maven built the jar a moment ago; no rebuild mid-build, no background AOT training.
        builder.environment().put("TRESOR_NO_BUILD", "1");
        builder.environment().put("TRESOR_AOT", "0");
        Process run = builder.start();
        if (!run.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            // SIGTERM: the script's trap stops what it started and removes its folders.
            run.destroy();
            if (!run.waitFor(60, TimeUnit.SECONDS)) {
                run.destroyForcibly();
            }
            fail("run.sh did not finish within " + TIMEOUT_SECONDS + " s:\n" + Files.readString(output));
        }
        String log = Files.readString(output);
        // Into target/failsafe-reports/…-output.txt: the steps with their times, the report's table.
        System.out.println(log);
        assertThat(report).as("the JSON report; run.sh said:\n%s", log).isRegularFile();
        JsonNode r = JSON.readTree(report.toFile());
        assertThat(run.exitValue()).as("run.sh exit code (non-zero: a goal failed); output:\n%s", log).isZero();

        assertThat(r.path("goalsMet").asBoolean()).as(log).isTrue();
        assertThat(r.at("/requests/sent").asInt()).as("requests sent").isGreaterThan(50);
        assertThat(r.at("/requests/failed").asInt()).as("failed requests: %s", r.at("/requests/failures")).isZero();

        JsonNode rotations = r.at("/rotations/mariadb");
        assertThat(rotations.size()).as("MariaDB rotations").isGreaterThanOrEqualTo(1);
        for (JsonNode rotation : rotations) {
            assertThat(rotation.path("converged").asBoolean()).as("rotation %s", rotation).isTrue();
            assertThat(rotation.path("activeAfter").asText()).isNotEqualTo(rotation.path("activeBefore").asText());
        }
        assertThat(r.at("/rotations/redis/converged").asText()).as("Redis rotation %s", r.at("/rotations/redis")).isEqualTo("true");

        for (String tunnel : List.of("mariadb", "redis", "app-mariadb", "app-redis")) {
            JsonNode c = r.at("/certificates/" + tunnel);
            assertThat(c.path("serialAfter").asText()).as("tunnel %s: %s", tunnel, c).isNotBlank()
                    .isNotEqualTo(c.path("serialBefore").asText());
            assertThat(c.path("renewedAndPickedUp").asBoolean()).as("tunnel %s: %s", tunnel, c).isTrue();
        }

        JsonNode intruder = r.path("intruder");
        assertThat(intruder.path("refused").asBoolean()).as("intruder %s", intruder).isTrue();
        assertThat(intruder.at("/throughTunnelWithStolenPassword/refusedByIdentity").asInt()).as("%s", intruder).isPositive();
        assertThat(intruder.path("mariadbListensOn").asText()).startsWith("127.0.0.1:");

        assertThat(r.at("/audit/verified").asBoolean()).as("audit %s", r.path("audit")).isTrue();
        assertThat(r.at("/audit/secretReadsByIdentity/openemr").asInt()).as("the agent's audited reads").isPositive();
        assertThat(r.at("/mesh/passed").asBoolean()).as("mesh %s", r.path("mesh")).isTrue();
        assertThat(r.at("/mesh/committedManifestsMatchRender").asBoolean())
                .as("examples/openemr/k8s/mesh equals a fresh `tresor mesh render` of topology.yaml").isTrue();
    }

    /** Fails, naming the Debian packages to install, if the demo's programs are not there. */
    private void requireTools() throws IOException, InterruptedException {
        assertThat(script).as("examples/openemr/run.sh").isExecutable();
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(Path.of("/usr/sbin/mariadbd")) || !Files.isExecutable(Path.of("/usr/bin/mariadb-install-db"))) {
            missing.add("mariadb-server");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
            missing.add("redis-server");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/redis-cli"))) {
            missing.add("redis-tools");
        }
        if (!Files.isExecutable(Path.of("/usr/bin/php"))) {
            missing.addAll(List.of("php-cli", "php-mysql", "php-redis"));
        } else {
            Process modules = new ProcessBuilder("/usr/bin/php", "-m").redirectErrorStream(true).start();
            String list = new String(modules.getInputStream().readAllBytes());
            modules.waitFor(30, TimeUnit.SECONDS);
            if (!list.lines().toList().contains("pdo_mysql")) {
                missing.add("php-mysql");
            }
            if (!list.lines().toList().contains("redis")) {
                missing.add("php-redis");
            }
        }
        if (!missing.isEmpty()) {
            fail("the OpenEMR example needs Debian packages that are missing: apt-get install -y --no-install-recommends "
                    + String.join(" ", missing) + " (.ci/run installs them)");
        }
    }
}
