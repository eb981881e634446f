package dev.tresor.rotation.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.rotation.RotationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RotationConfigLoaderTest {

    @TempDir
    Path dir;

    private static final String VALID = """
            name: openemr
            target:
              kind: mariadb
              role: openemr_app
              grants:
                - privileges: [SELECT, INSERT, UPDATE, DELETE]
                  on: "*"
            secrets:
              slots: openemr/db-slots
              admin: openemr/db-admin
            consumers:
              - kind: file
                path: sqlconf.php
                template: "$login = '{{username|php}}'; $pass = '{{password|php}}';"
                mode: "0640"
              - kind: command
                command: [systemctl, reload, php-fpm]
              - kind: http-check
                url: http://127.0.0.1:8080/health
            schedule: "0 3 * * 0"
            """;

    private RotationConfig parse(String yaml) {
        return RotationConfigLoader.parse(yaml, dir.resolve("rotation.yaml"));
    }

    @Test
    void aValidDefinitionGetsSafeDefaults() {
        RotationConfig c = parse(VALID);
        assertThat(c.name()).isEqualTo("openemr");
        assertThat(c.target().kind()).isEqualTo(TargetKind.MARIADB);
        assertThat(c.target().tlsMode()).as("TLS is on unless disabled explicitly").isEqualTo(TlsMode.REQUIRE);
        assertThat(c.target().userHost()).isEqualTo("%");
        assertThat(c.consumers()).hasSize(3);
        assertThat(((ConsumerConfig.File) c.consumers().getFirst()).path()).isEqualTo(dir.resolve("sqlconf.php"));
        assertThat(((ConsumerConfig.HttpCheck) c.consumers().get(2)).fatal()).isTrue();
        assertThat(c.validation().sql()).isEqualTo("SELECT 1");
        assertThat(c.validation().fatal()).isTrue();
        assertThat(c.timeouts().drain()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void theOpenEmrExampleLoads() throws Exception {
        Path ca = Files.writeString(dir.resolve("mariadb-ca.crt"), "-");
        Files.copy(Path.of("../examples/openemr/sqlconf.php.tmpl"), dir.resolve("sqlconf.php.tmpl"));
        String text = Files.readString(Path.of("../examples/openemr/rotation.yaml"))
                .replace("/etc/tresor/rotation/mariadb-ca.crt", ca.toString());
        RotationConfig c = RotationConfigLoader.parse(text, dir.resolve("rotation.yaml"));
        assertThat(c.target().tlsMode()).isEqualTo(TlsMode.VERIFY_FULL);
        assertThat(c.consumers()).hasAtLeastOneElementOfType(ConsumerConfig.File.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "kind: mariadb;kind: oracle;target.kind must be mariadb, mysql or postgresql",
            "role: openemr_app;role: \"drop table\";target.role must be 1-63 letters",
            "on: \"*\";on: \"*.*\";target.grants[0].on must be *",
            "privileges: [SELECT, INSERT, UPDATE, DELETE];privileges: [ALL];target.grants[0].privileges 'ALL' is not allowed",
            "slots: openemr/db-slots;slots: ../etc;secrets.slots",
            "mode: \"0640\";mode: \"rw\";consumers[0].mode must be an octal mode",
            "url: http://127.0.0.1:8080/health;url: ftp://x/;consumers[2].url must be an http:// or https:// URL",
            "command: [systemctl, reload, php-fpm];command: [];consumers[1].command is required",
            "schedule: \"0 3 * * 0\";schedule: \"every sunday\";schedule must be a 5-field cron expression",
            "name: openemr;nmae: openemr;nmae is not a known field",
            "{{password|php}};{{pasword}};unknown placeholder {{pasword}}",
            "kind: http-check;kind: kubernetes-secrets;consumers[2].kind must be file, command, http-check, kubernetes-secret or kubernetes-rollout",
    })
    void everyBadFieldIsNamed(String from, String to, String message) {
        assertThat(VALID).contains(from);
        assertThatThrownBy(() -> parse(VALID.replace(from, to)))
                .isInstanceOf(RotationException.class)
                .hasMessageContaining(message)
                .extracting(e -> ((RotationException) e).kind()).isEqualTo(RotationException.Kind.CONFIG);
    }

    @Test
    void aScheduleRunsInItsTimeZone() throws Exception {
        assertThat(parse(VALID).timeZone()).isEqualTo(java.time.ZoneOffset.UTC);
        assertThat(parse(VALID.replace("schedule:", "timeZone: Europe/Berlin\nschedule:")).timeZone())
                .isEqualTo(java.time.ZoneId.of("Europe/Berlin"));
        assertThatThrownBy(() -> parse(VALID.replace("schedule:", "timeZone: Mars/Olympus\nschedule:")))
                .hasMessageContaining("timeZone 'Mars/Olympus' is not a time zone");
    }

    @Test
    void kubernetesConsumersAreValidated() throws Exception {
        Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1");
        String k8s = VALID.replace("schedule:", "kubernetes:\n  kubeconfig: kubeconfig\nschedule:")
                .replace("  - kind: http-check", String.join("\n",
                        "  - kind: kubernetes-secret",
                        "    namespace: openemr",
                        "    name: openemr-db",
                        "    data:",
                        "      DB_USER: \"{{username}}\"",
                        "      DB_PASS: \"{{password}}\"",
                        "  - kind: kubernetes-rollout",
                        "    namespace: openemr",
                        "    deployment: openemr",
                        "    timeout: 10m",
                        "  - kind: http-check"));
        RotationConfig c = parse(k8s);
        assertThat(c.kubernetes().kubeconfig()).isEqualTo(kubeconfig);
        assertThat(c.consumers()).hasAtLeastOneElementOfType(ConsumerConfig.KubernetesSecret.class)
                .hasAtLeastOneElementOfType(ConsumerConfig.KubernetesRollout.class);
        assertThatThrownBy(() -> parse(k8s.replace("namespace: openemr\n    name:", "namespace: OpenEMR\n    name:")))
                .hasMessageContaining("consumers[2].namespace must be a Kubernetes namespace name");
        assertThatThrownBy(() -> parse(k8s.replace("DB_PASS: \"{{password}}\"", "DB_PASS: \"{{pass}}\"")))
                .hasMessageContaining("unknown placeholder {{pass}}");
        assertThatThrownBy(() -> parse(k8s.replace("timeout: 10m", "timeout: soon")))
                .hasMessageContaining("consumers[3].timeout must be a duration");
    }

    @Test
    void verifyModesNeedTheCa() throws Exception {
        assertThatThrownBy(() -> parse(VALID.replace("  role: openemr_app", "  tls:\n    mode: verify-full\n  role: openemr_app")))
                .hasMessageContaining("target.tls.ca is required for tls.mode verify-full");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "-");
        RotationConfig c = parse(VALID.replace("  role: openemr_app", "  tls:\n    mode: disable\n  role: openemr_app"));
        assertThat(c.target().tlsMode()).isEqualTo(TlsMode.DISABLE);
        assertThat(parse(VALID.replace("  role: openemr_app", "  tls:\n    mode: verify-ca\n    ca: ca.crt\n  role: openemr_app"))
                .target().tlsCa()).isEqualTo(ca);
    }

    @Test
    void postgresGrantsAreCheckedPerObjectType() {
        String pg = VALID.replace("kind: mariadb", "kind: postgresql").replace("""
                    - privileges: [SELECT, INSERT, UPDATE, DELETE]
                      on: "*"
                """, """
                    - privileges: [CONNECT]
                      on: database
                    - privileges: [SELECT]
                      on: all tables in schema public
                """);
        assertThat(parse(pg).target().grants()).extracting(Grant::on).containsExactly("database", "all tables in schema public");
        assertThatThrownBy(() -> parse(pg.replace("[CONNECT]", "[SELECT]")))
                .hasMessageContaining("target.grants[0].privileges 'SELECT' is not a privilege on database");
        assertThatThrownBy(() -> parse(VALID.replace("kind: mariadb", "kind: postgresql\n  userHost: \"%\"")))
                .hasMessageContaining("target.userHost applies to mariadb/mysql only");
    }
}
