package dev.tresor.mesh.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tresor.mesh.topology.Topology;
import dev.tresor.mesh.topology.TopologyLoader;
import dev.tresor.tunnel.config.ConfigFile;
import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.config.TunnelsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code render --tunnels}: the OpenEMR files equal the reviewed golden files and load with
 * tresor-tunnel's real {@link ConfigFile} loader, each tunnel admitting exactly its edges' sources.
 * Regenerate the golden files with {@code -Dtresor.mesh.updateGolden=true} and review the diff.
 */
class TunnelRendererTest {

    private static final Path GOLDEN = Path.of("src", "test", "resources", "dev", "tresor", "mesh", "golden", "openemr-tunnels");
    private static final Path OPENEMR = Path.of("..", "examples", "openemr", "topology.yaml");

    private final TunnelRenderer renderer = new TunnelRenderer(new TopologyHash());
    private final Topology openEmr = new TopologyLoader().load(OPENEMR);

    /** Writes the files and the certificate placeholders the loader insists exist, then loads each one. */
    static Map<String, TunnelsConfig> writeAndLoad(TunnelRenderer renderer, Topology topology, List<TunnelFile> files, Path dir)
            throws IOException {
        Files.writeString(dir.resolve("bundle.pem"), "placeholder: the loader checks the file exists, the tunnel parses it");
        Map<String, TunnelsConfig> loaded = new TreeMap<>();
        for (TunnelFile file : files) {
            Files.writeString(dir.resolve(file.workload() + ".crt"), "placeholder");
            Files.writeString(dir.resolve(file.workload() + ".key"), "placeholder");
            Path path = dir.resolve(file.fileName());
            Files.writeString(path, renderer.toYaml(topology, file), StandardCharsets.UTF_8);
            loaded.put(file.workload(), ConfigFile.load(path));
        }
        return loaded;
    }

    @Test
    void openEmrMatchesTheGoldenFiles() throws IOException {
        List<TunnelFile> files = renderer.render(openEmr, TunnelOptions.defaults());
        if (Boolean.getBoolean("tresor.mesh.updateGolden")) {
            Files.createDirectories(GOLDEN);
            try (Stream<Path> old = Files.list(GOLDEN)) {
                for (Path p : old.toList()) Files.delete(p);
            }
            for (TunnelFile f : files) Files.writeString(GOLDEN.resolve(f.fileName()), renderer.toYaml(openEmr, f), StandardCharsets.UTF_8);
        }
        try (Stream<Path> golden = Files.list(GOLDEN)) {
            assertThat(golden.map(p -> p.getFileName().toString()).sorted())
                    .containsExactlyElementsOf(files.stream().map(TunnelFile::fileName).toList());
        }
        for (TunnelFile f : files) {
            assertThat(renderer.toYaml(openEmr, f)).as(f.fileName())
                    .isEqualTo(Files.readString(GOLDEN.resolve(f.fileName()), StandardCharsets.UTF_8));
        }
        // OpenEMR reaches MariaDB and Redis; they serve it; the router's ingress is left out (noted in openemr's file).
        assertThat(files).extracting(TunnelFile::workload).containsExactly("mariadb", "openemr", "redis");
        assertThat(files.get(1).notes()).singleElement().asString().contains("ingress router", "not tunnelled");
    }

    @Test
    void openEmrFilesLoadWithTheTunnelsOwnLoaderAndAdmitExactlyTheirEdges(@TempDir Path dir) throws IOException {
        Map<String, TunnelsConfig> loaded = writeAndLoad(renderer, openEmr, renderer.render(openEmr, TunnelOptions.defaults()), dir);
        String openemr = "spiffe://cluster.local/ns/openemr/sa/openemr";
        String mariadb = "spiffe://cluster.local/ns/openemr/sa/mariadb";
        String redis = "spiffe://cluster.local/ns/openemr/sa/redis";
        String router = "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";

        TunnelSpec db = loaded.get("mariadb").tunnels().getFirst();
        assertThat(loaded.get("mariadb").tunnels()).hasSize(1);
        assertThat(db.mode()).isEqualTo(Mode.SERVER);
        assertThat(db.listen().toString()).isEqualTo("0.0.0.0:13306");
        assertThat(db.target().toString()).isEqualTo("127.0.0.1:3306");
        assertThat(db.peers().allows(openemr)).isTrue();
        assertThat(Stream.of(mariadb, redis, router, "spiffe://cluster.local/ns/other/sa/openemr")).noneMatch(db.peers()::allows);
        assertThat(db.cert()).isEqualTo(dir.resolve("mariadb.crt"));
        assertThat(db.caBundle()).isEqualTo(dir.resolve("bundle.pem"));

        List<TunnelSpec> app = loaded.get("openemr").tunnels();
        assertThat(app).extracting(TunnelSpec::name).containsExactly("to-mariadb-3306", "to-redis-6379");
        assertThat(app).allSatisfy(t -> assertThat(t.mode()).isEqualTo(Mode.CLIENT));
        assertThat(app.get(0).listen().toString()).isEqualTo("127.0.0.1:3306");
        assertThat(app.get(0).target().toString()).isEqualTo("mariadb:13306");
        assertThat(app.get(0).peers().allows(mariadb)).isTrue();
        assertThat(app.get(0).peers().allows(redis)).isFalse();
        assertThat(app.get(1).target().toString()).isEqualTo("redis:16379");
        assertThat(app.get(1).peers().allows(redis)).isTrue();
        assertThat(app.get(1).peers().allows(mariadb)).isFalse();

        assertThat(loaded.get("redis").tunnels()).singleElement().satisfies(t -> {
            assertThat(t.listen().port()).isEqualTo(16379);
            assertThat(t.peers().allows(openemr)).isTrue();
            assertThat(t.peers().allows(mariadb)).isFalse();
        });
    }

    @Test
    void sameInputGivesSameBytesWhateverTheOrderOfTheFile() throws IOException {
        String text = Files.readString(OPENEMR);
        // The same edges in the other order, and without comments.
        String reordered = text.replaceAll("(?m)\\s+#.*$", "").replace(
                "  - {from: openemr, to: mariadb, port: 3306}\n  - {from: openemr, to: redis, port: 6379}",
                "  - {from: openemr, to: redis, port: 6379}\n  - {from: openemr, to: mariadb, port: 3306}");
        assertThat(reordered).isNotEqualTo(text);
        Topology other = new TopologyLoader().parse(reordered, "reordered.yaml");
        assertThat(all(other)).isEqualTo(all(openEmr));
        assertThat(all(openEmr)).isEqualTo(all(new TopologyLoader().load(OPENEMR)));
    }

    private String all(Topology t) {
        StringBuilder out = new StringBuilder();
        renderer.render(t, TunnelOptions.defaults()).forEach(f -> out.append(f.fileName()).append('\n').append(renderer.toYaml(t, f)));
        return out.toString();
    }

    private static final String BASE = """
            namespace: shop
            trustDomain: example.org
            workloads:
              - {name: web, serviceAccount: web-sa, labels: {app: web}, ports: [{port: 8080}]}
              - {name: api, serviceAccount: api-sa, labels: {app: api}, ports: [{port: 9000}, {port: 9001}]}
              - {name: cron, serviceAccount: cron-sa, labels: {app: cron}, ports: [{port: 7000}]}
              - {name: db, serviceAccount: db-sa, labels: {app: db}, ports: [{port: 5432}, {port: 9000}, {port: 5353, protocol: UDP}]}
            """;

    private Topology topology(String edges) {
        return new TopologyLoader().parse(BASE + "edges:\n" + edges, "shop.yaml");
    }

    @Test
    void aServerTunnelAdmitsEverySourceOfItsPortAndOnlyThose(@TempDir Path dir) throws IOException {
        Topology t = topology("""
                  - {from: web, to: api, port: 9000}
                  - {from: cron, to: api, port: 9000}
                  - {from: cron, to: api, port: 9001}
                  - {from: api, to: db, port: 5432}
                """);
        List<TunnelFile> files = renderer.render(t, new TunnelOptions(20000, 0, Optional.of("hosts.example.org")));
        Map<String, TunnelsConfig> loaded = writeAndLoad(renderer, t, files, dir);
        List<TunnelSpec> api = loaded.get("api").tunnels();
        assertThat(api).extracting(TunnelSpec::name).containsExactly("in-9000", "in-9001", "to-db-5432");
        assertThat(api.get(0).peers().allows("spiffe://example.org/ns/shop/sa/web-sa")).isTrue();
        assertThat(api.get(0).peers().allows("spiffe://example.org/ns/shop/sa/cron-sa")).isTrue();
        assertThat(api.get(0).peers().allows("spiffe://example.org/ns/shop/sa/db-sa")).isFalse();
        assertThat(api.get(1).peers().allows("spiffe://example.org/ns/shop/sa/cron-sa")).isTrue();
        assertThat(api.get(1).peers().allows("spiffe://example.org/ns/shop/sa/web-sa")).isFalse();
        assertThat(api.get(1).listen().port()).isEqualTo(29001);
        assertThat(api.get(2).target().toString()).isEqualTo("db.hosts.example.org:25432");
        assertThat(files.stream().filter(f -> f.workload().equals("api")).findFirst().orElseThrow().tunnels().get(0).peers())
                .containsExactly("spiffe://example.org/ns/shop/sa/cron-sa", "spiffe://example.org/ns/shop/sa/web-sa");
        // cron serves 7000 to nobody: only client tunnels; web likewise.
        assertThat(loaded.get("cron").tunnels()).extracting(TunnelSpec::mode).containsOnly(Mode.CLIENT);
    }

    @Test
    void aUdpEdgeIsRefusedNamingIt() {
        Topology t = topology("  - {from: web, to: db, port: 5353}\n  - {from: web, to: api, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(t, TunnelOptions.defaults()))
                .isInstanceOf(TunnelRenderException.class)
                .hasMessageContaining("edge web -> db:5353/UDP: tresor tunnel carries TCP only");
    }

    @Test
    void aServerPortAbove65535IsRefusedNamingTheWorkloadAndPort() {
        Topology t = topology("  - {from: web, to: api, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(t, new TunnelOptions(60000, 0, Optional.empty())))
                .isInstanceOf(TunnelRenderException.class)
                .hasMessageContaining("workload api port 9000: its server tunnel would listen on 69000");
    }

    @Test
    void twoDestinationsOnOnePortCollideOnTheSourcesHost() {
        Topology t = topology("  - {from: web, to: api, port: 9000}\n  - {from: web, to: db, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(t, TunnelOptions.defaults()))
                .isInstanceOf(TunnelRenderException.class)
                .hasMessageContaining("workload web: port 9000 is needed twice on its host, by the client tunnel to api:9000 "
                        + "and by the client tunnel to db:9000");
    }

    @Test
    void aClientOnAPortItsOwnServiceUsesIsRefused() {
        // db serves 9000 itself, so a client tunnel on 127.0.0.1:9000 for db -> api:9000 cannot bind.
        Topology t = topology("  - {from: db, to: api, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(t, TunnelOptions.defaults()))
                .isInstanceOf(TunnelRenderException.class)
                .hasMessageContaining("workload db: port 9000 is needed twice on its host, by its own service on 9000 and by "
                        + "the client tunnel to api:9000");
    }

    @Test
    void aClientPortOffsetLetsAWorkloadReachAPortNumberItServes(@TempDir Path dir) throws IOException {
        Topology t = topology("  - {from: db, to: api, port: 9000}\n");
        List<TunnelFile> files = renderer.render(t, new TunnelOptions(10000, 20000, Optional.empty()));
        TunnelSpec client = writeAndLoad(renderer, t, files, dir).get("db").tunnels().getFirst();
        assertThat(client.listen().toString()).isEqualTo("127.0.0.1:29000");
        assertThat(client.target().toString()).isEqualTo("api:19000");
        assertThat(client.peers().allows("spiffe://example.org/ns/shop/sa/api-sa")).isTrue();
        // Two destinations on one port still need two local ports: an offset cannot split them.
        Topology two = topology("  - {from: web, to: api, port: 9000}\n  - {from: web, to: db, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(two, new TunnelOptions(10000, 20000, Optional.empty())))
                .hasMessageContaining("workload web: port 29000 is needed twice on its host");
        assertThatThrownBy(() -> renderer.render(t, new TunnelOptions(10000, 60000, Optional.empty())))
                .hasMessageContaining("workload db: its client tunnel to api:9000 would listen on 69000");
    }

    @Test
    void aServerTunnelOnAnotherServicesPortIsRefused() {
        // With offset 1000 api's tunnel for 9000 would take 10000... that is free; offset 1 makes 9001, api's own port.
        Topology t = topology("  - {from: web, to: api, port: 9000}\n");
        assertThatThrownBy(() -> renderer.render(t, new TunnelOptions(1, 0, Optional.empty())))
                .hasMessageContaining("workload api: port 9001 is needed twice on its host, by its own service on 9001 and by "
                        + "the server tunnel for port 9000");
    }

    @Test
    void anIngressOnlyDestinationGetsNoFileButANote() {
        Topology t = new TopologyLoader().parse(BASE + """
                ingress:
                  - {name: lb, namespace: edge, serviceAccount: router, to: cron, port: 7000}
                edges:
                  - {from: web, to: api, port: 9000}
                """, "ingress.yaml");
        List<TunnelFile> files = renderer.render(t, TunnelOptions.defaults());
        assertThat(files).extracting(TunnelFile::workload).containsExactly("api", "web");
        assertThat(files).flatExtracting(TunnelFile::tunnels).extracting(TunnelFile.Tunnel::peers)
                .allSatisfy(peers -> assertThat(peers).noneMatch(p -> p.contains("/sa/router")));
        assertThat(TunnelRenderer.notes(t)).singleElement().satisfies(n -> {
            assertThat(n.workload()).isEqualTo("cron");
            assertThat(n.text()).startsWith("ingress lb (edge/router) -> cron:7000 is not tunnelled");
        });
    }

    @Test
    void badOptionsAreRefusedNamingTheFlag() {
        assertThatThrownBy(() -> new TunnelOptions(0, 0, Optional.empty())).hasMessageContaining("--tunnel-port-offset: 0");
        assertThatThrownBy(() -> new TunnelOptions(10, -1, Optional.empty())).hasMessageContaining("--tunnel-client-port-offset: -1");
        assertThatThrownBy(() -> new TunnelOptions(10, 0, Optional.of("Not_A.Domain"))).hasMessageContaining("--tunnel-domain");
    }

    @Test
    void longDestinationNamesAreCutToTheTunnelsNameLimitAndStayDistinct() {
        String a = "a".repeat(60) + "one";
        String b = "a".repeat(60) + "two";
        List<String> names = new ArrayList<>(List.of(TunnelRenderer.clientName(a, 65535), TunnelRenderer.clientName(b, 65535)));
        assertThat(names).allSatisfy(n -> assertThat(n).hasSizeLessThanOrEqualTo(64).matches("[A-Za-z0-9._-]+").endsWith("-65535"));
        assertThat(names.get(0)).isNotEqualTo(names.get(1));
        assertThat(TunnelRenderer.clientName("db", 5432)).isEqualTo("to-db-5432");
    }
}
