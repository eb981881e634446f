package dev.tresor.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.tunnel.config.ConfigFile;
import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        for (String name : new String[] {"db.crt", "db.key", "app.crt", "app.key", "ca.pem"}) {
            Files.writeString(dir.resolve(name), "placeholder");
        }
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(dir.resolve("tunnels.yaml"), yaml);
    }

    @Test
    void readsSeveralTunnelsWithDefaultsAndRelativePaths() throws IOException {
        TunnelsConfig config = ConfigFile.load(write("""
                management: 127.0.0.1:9100
                drainTimeout: 30s
                tunnels:
                  - name: mariadb
                    mode: server
                    listen: 0.0.0.0:3307
                    target: 127.0.0.1:3306
                    allow: [spiffe://tresor.local/ns/openemr/sa/openemr, "spiffe://tresor.local/ns/ops/**"]
                    cert: db.crt
                    key: db.key
                    caBundle: ca.pem
                    idleTimeout: 15m
                    maxConnections: 200
                  - name: redis
                    mode: client
                    listen: 127.0.0.1:16379
                    target: "[::1]:6380"
                    expect: spiffe://tresor.local/ns/openemr/sa/redis
                    cert: app.crt
                    key: app.key
                    caBundle: ca.pem
                """));
        assertThat(config.management().port()).isEqualTo(9100);
        assertThat(config.drainTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.tunnels()).hasSize(2);
        var db = config.tunnels().get(0);
        assertThat(db.mode()).isEqualTo(Mode.SERVER);
        assertThat(db.cert()).isEqualTo(dir.resolve("db.crt"));
        assertThat(db.idleTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(db.maxConnections()).isEqualTo(200);
        assertThat(db.peers().allows("spiffe://tresor.local/ns/ops/sa/x")).isTrue();
        var redis = config.tunnels().get(1);
        assertThat(redis.target().host()).isEqualTo("::1");
        assertThat(redis.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(redis.crl()).isNull();
    }

    private static final String GOOD = """
            tunnels:
              - mode: server
                listen: 0.0.0.0:3307
                target: 127.0.0.1:3306
                allow: spiffe://tresor.local/ns/openemr/sa/openemr
                cert: db.crt
                key: db.key
                caBundle: ca.pem
            """;

    @Test
    void errorsNameTheField() throws IOException {
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("listen: 0.0.0.0:3307", "listen: 3307"))))
                .hasMessageContaining("tunnels[0].listen '3307' is not HOST:PORT");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("mode: server", "mode: proxy"))))
                .hasMessageContaining("tunnels[0].mode: 'proxy'");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("cert: db.crt", "cert: missing.crt"))))
                .hasMessageContaining("tunnels[0].cert: file").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("allow:", "expect:"))))
                .hasMessageContaining("tunnels[0].expect: a server tunnel takes 'allow'");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("caBundle:", "caBundel:"))))
                .hasMessageContaining("tunnels[0].caBundel: unknown field");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD + "    idleTimeout: soon\n")))
                .hasMessageContaining("tunnels[0].idleTimeout 'soon' is not a duration");
        assertThatThrownBy(() -> ConfigFile.load(write(GOOD.replace("spiffe://tresor.local/ns/openemr/sa/openemr",
                "spiffe://tresor.local/ns/sa-*")))).hasMessageContaining("tunnels[0].allow: identity pattern");
        assertThatThrownBy(() -> ConfigFile.load(write("threads: green\n" + GOOD)))
                .hasMessageContaining("threads: 'green' is not 'virtual' or 'platform'");
        assertThat(ConfigFile.load(write(GOOD)).threads()).isEqualTo(dev.tresor.tunnel.config.TunnelsConfig.Threads.PLATFORM);
        assertThat(ConfigFile.load(write("threads: virtual\n" + GOOD)).threads())
                .isEqualTo(dev.tresor.tunnel.config.TunnelsConfig.Threads.VIRTUAL);
        assertThatThrownBy(() -> ConfigFile.load(write("tunnels: []\n"))).hasMessageContaining("tunnels: a list");
        assertThatThrownBy(() -> ConfigFile.load(write("tunnels: [\n"))).hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> ConfigFile.load(dir.resolve("nope.yaml"))).hasMessageContaining("does not exist");
    }
}
