package dev.tresor.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.agent.cli.AgentCommand;
import dev.tresor.agent.config.AgentConfig;
import dev.tresor.agent.config.ConfigLoader;
import dev.tresor.agent.config.Output;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** agent.yaml: every error names the line and the field. */
class AgentConfigTest {

    @TempDir
    Path dir;
    String head;

    @BeforeEach
    void files() throws Exception {
        for (String f : new String[] {"a.crt", "a.key", "ca.pem"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        head = """
                server: https://tresor.internal:8443
                credentials:
                  cert: a.crt
                  key: a.key
                  ca: ca.pem
                destination: /dev/shm/app
                """;
    }

    private AgentConfig parse(String body) {
        return ConfigLoader.parse(head + body, dir);
    }

    @Test
    void aFullConfigParsesWithDefaults() {
        AgentConfig c = parse("""
                secrets:
                  - secret: openemr/api-key
                    file: api-key
                  - secret: openemr/tls
                    label: previous
                    file: tls.pem
                    mode: "0440"
                    group: "0"
                templates:
                  - file: sqlconf.php
                    template: "{{ db[db.active_slot].password | php }}"
                    secrets:
                      db: {secret: openemr/db-slots, as: json}
                      other: openemr/api-key
                reload:
                  signal: HUP
                  pidFile: /run/apache2.pid
                debounce: 1s
                """);
        assertThat(c.outputs()).hasSize(3);
        assertThat(c.outputs().get(0).options().mode()).isEqualTo(PosixFilePermissions.fromString("r--------"));
        assertThat(c.outputs().get(1).options().mode()).isEqualTo(PosixFilePermissions.fromString("r--r-----"));
        assertThat(((Output.Raw) c.outputs().get(1)).ref().path()).isEqualTo("/v1/secrets/openemr/tls?label=previous");
        assertThat(c.outputs().get(2).secretNames()).containsExactlyInAnyOrder("openemr/db-slots", "openemr/api-key");
        assertThat(c.keepOnRevoke()).isFalse();
        assertThat(c.debounce()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.reload().signal()).isEqualTo("HUP");
    }

    @Test
    void failoverNodesAreListedAndEachIsChecked() {
        AgentConfig c = parse("""
                failover:
                  - https://tresor-b.internal:8443
                  - https://tresor-c.internal:8443/
                secrets:
                  - secret: a
                    file: a
                """);
        assertThat(c.failover()).extracting(java.net.URI::getHost).containsExactly("tresor-b.internal", "tresor-c.internal");
        assertThat(parse("secrets:\n  - secret: a\n    file: a\n").failover()).isEmpty();
        assertThatThrownBy(() -> parse("""
                failover:
                  - http://tresor-b.internal:8080
                secrets:
                  - secret: a
                    file: a
                """)).hasMessageContaining("failover").hasMessageContaining("is not https://HOST:PORT");
        assertThatThrownBy(() -> parse("""
                failover: https://tresor-b.internal:8443
                secrets:
                  - secret: a
                    file: a
                """)).hasMessageContaining("failover: must be a list");
    }

    @Test
    void anUnknownFieldIsRefusedWithItsLine() {
        assertThatThrownBy(() -> parse("""
                secrets:
                  - secret: a
                    file: a
                    mdoe: "0400"
                """)).hasMessageStartingWith("line 10: secrets[0].mdoe: unknown field");
        assertThatThrownBy(() -> parse("""
                templates:
                  - file: t
                    template: "{{ x }}"
                    secrets:
                      x: {secret: a, as: json, lable: current}
                """)).hasMessageStartingWith("line 11: templates[0].secrets.x.lable: unknown field");
    }

    @Test
    void aKeyGivenTwiceIsRefusedWithItsLine() {
        assertThatThrownBy(() -> parse("""
                keepOnRevoke: true
                secrets:
                  - secret: a
                    file: a
                keepOnRevoke: false
                """)).hasMessageContaining("line 11").hasMessageContaining("'keepOnRevoke' is given twice");
    }

    @Test
    void badValuesNameTheFieldAndLine() {
        assertThatThrownBy(() -> parse("secrets:\n  - secret: a\n    file: a\n    mode: \"0999\"\n"))
                .hasMessageStartingWith("line 10: secrets[0].mode: '0999' is not an octal file mode");
        assertThatThrownBy(() -> parse("secrets:\n  - secret: ../a\n    file: a\n"))
                .hasMessageContaining("secrets[0]: '../a' is not a secret name");
        assertThatThrownBy(() -> parse("secrets:\n  - secret: a\n    file: .hidden\n"))
                .hasMessageContaining("line 9: secrets[0].file:");
        assertThatThrownBy(() -> parse("secrets:\n  - {secret: a, file: x}\n  - {secret: b, file: x}\n"))
                .hasMessageContaining("secrets[1].file: 'x' is already written by another entry");
        assertThatThrownBy(() -> parse("templates:\n  - file: t\n    template: \"{{ x \"\n    secrets: {x: a}\n"))
                .hasMessageContaining("templates[0].template: line 1 of the template");
        assertThatThrownBy(() -> parse("secrets:\n  - {secret: a, file: x}\nreload:\n  signal: HUP\n"))
                .hasMessageContaining("reload.signal: needs reload.pid or reload.pidFile");
        assertThatThrownBy(() -> parse("secrets:\n  - {secret: a, file: x}\ndebounce: soon\n"))
                .hasMessageContaining("line 9: debounce: 'soon' is not a duration");
    }

    @Test
    void theShippedExamplesLoad() throws Exception {
        // examples/openemr/agent/agent.yaml, with its credential folder pointed at one that exists here.
        Path example = Path.of("..", "examples", "openemr", "agent").toAbsolutePath().normalize();
        Files.createDirectories(dir.resolve("identity"));
        String text = Files.readString(example.resolve("agent.yaml")).replace("/var/run/tresor/identity",
                dir.resolve("identity").toString());
        AgentConfig openemr = ConfigLoader.parse(text, example);
        assertThat(openemr.outputs()).extracting(o -> o.options().file()).containsExactly("redis-password", "sqlconf.php");
        assertThat(openemr.credentials()).isInstanceOf(AgentConfig.Directory.class);

        // deploy/k8s/agent-sidecar.yaml: the ConfigMap's agent.yaml and template, with the mounted paths made local.
        String manifests = Files.readString(Path.of("..", "deploy", "k8s", "agent-sidecar.yaml"));
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        var configMap = mapper.readTree(manifests.substring(0, manifests.indexOf("\n---\n")));
        Files.writeString(dir.resolve("sqlconf.php.peb"), configMap.path("data").path("sqlconf.php.peb").asText());
        for (String f : new String[] {"tls.crt", "tls.key", "ca.crt"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        String sidecar = configMap.path("data").path("agent.yaml").asText()
                .replace("/etc/tresor/identity/", dir + "/").replace("/etc/tresor/agent/", dir + "/");
        AgentConfig k8s = ConfigLoader.parse(sidecar, dir);
        assertThat(k8s.outputs()).hasSize(2);
        assertThat(k8s.reload().signal()).isEqualTo("USR1");
        assertThat(k8s.status().listens()).isTrue();
    }

    @Test
    void theCommandRefusesADiskDestinationAndEnvWithoutExec() throws Exception {
        Path disk = dir.resolve("config-disk.yaml");
        Files.writeString(disk, (head + "secrets:\n  - {secret: a, file: x}\n").replace("/dev/shm/app",
                dir.resolve("out").toString()));
        StringWriter err = new StringWriter();
        CommandLine line = new CommandLine(new AgentCommand()).setErr(new PrintWriter(err));
        assertThat(line.execute("--config", disk.toString(), "--once")).isEqualTo(AgentCommand.USAGE);
        assertThat(err.toString()).contains("not tmpfs or ramfs", "--allow-disk");
        assertThat(dir.resolve("out")).doesNotExist();

        Path env = dir.resolve("config-env.yaml");
        Files.writeString(env, head.replace("/dev/shm/app", "/dev/shm/tresor-agent-config-test")
                + "secrets:\n  - {secret: a, env: A}\n");
        StringWriter err2 = new StringWriter();
        assertThat(new CommandLine(new AgentCommand()).setErr(new PrintWriter(err2)).execute("--config", env.toString()))
                .isEqualTo(AgentCommand.USAGE);
        assertThat(err2.toString()).contains("$A: env variables need exec mode");
    }
}
