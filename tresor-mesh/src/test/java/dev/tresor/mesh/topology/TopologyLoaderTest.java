package dev.tresor.mesh.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopologyLoaderTest {

    private final TopologyLoader loader = new TopologyLoader();

    /** A valid two-workload topology; each test breaks one line of it. Line numbers are 1-based. */
    private static final String VALID = """
            namespace: shop
            workloads:
              - name: web
                serviceAccount: web
                labels: {app: web}
                ports: [{port: 8080}]
              - name: db
                serviceAccount: db
                labels: {app: db}
                ports: [{port: 5432}]
            edges:
              - {from: web, to: db, port: 5432}
            egress:
              - name: api
                dnsName: api.example.com
                ports: [{port: 443}]
                from: [web]
            """;

    static Path openEmrTopology() {
        // Surefire runs in the module folder; the example lives at the repository root.
        return Path.of("..", "examples", "openemr", "topology.yaml");
    }

    private List<TopologyException.Problem> problems(String yaml) {
        try {
            loader.parse(yaml, "test.yaml");
        } catch (TopologyException e) {
            assertThat(e.getMessage()).startsWith("test.yaml: invalid topology");
            return e.problems();
        }
        throw new AssertionError("accepted:\n" + yaml);
    }

    @Test
    void loadsTheOpenEmrExample() {
        Topology t = loader.load(openEmrTopology());
        assertThat(t.namespace()).isEqualTo("openemr");
        assertThat(t.mesh().flavour()).isEqualTo(MeshFlavour.OPENSHIFT_SERVICE_MESH);
        assertThat(t.workloads()).extracting(Workload::name).containsExactly("openemr", "mariadb", "redis");
        assertThat(t.edges()).containsExactly(
                new Edge("openemr", "mariadb", Port.tcp(3306)),
                new Edge("openemr", "redis", Port.tcp(6379)));
        assertThat(t.ingress()).singleElement().satisfies(i -> {
            assertThat(i.to()).isEqualTo("openemr");
            assertThat(i.port()).isEqualTo(Port.tcp(8080));
            assertThat(t.principal(i.namespace(), i.serviceAccount()))
                    .isEqualTo("cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account");
        });
        assertThat(t.principal(t.requireWorkload("openemr"))).isEqualTo("cluster.local/ns/openemr/sa/openemr");
        assertThat(t.egress()).extracting(Egress::name)
                .containsExactly("quay", "docker-hub", "open-emr-org", "ntp", "dns", "fhir");
        assertThat(t.enabledEgress()).extracting(Egress::name).doesNotContain("fhir");
        assertThat(t.egress().get(3).ports()).containsExactly(new Port(123, Protocol.UDP));
        assertThat(t.clusterDns().ports()).contains(new Port(5353, Protocol.UDP));
    }

    @Test
    void defaultsApplyWhenOptionalSectionsAreLeftOut() {
        Topology t = loader.parse(VALID, "test.yaml");
        assertThat(t.trustDomain()).isEqualTo("cluster.local");
        assertThat(t.mesh().flavour()).isEqualTo(MeshFlavour.ISTIO);
        assertThat(t.clusterDns().namespace()).isEqualTo("kube-system");
        assertThat(t.clusterDns().podLabels()).isEqualTo(Map.of("k8s-app", "kube-dns"));
        assertThat(t.ingress()).isEmpty();
    }

    @Test
    void unknownWorkloadInAnEdgeNamesTheFieldAndLine() {
        assertThat(problems(VALID.replace("{from: web, to: db,", "{from: web, to: dbx,")))
                .containsExactly(new TopologyException.Problem("edges[0].to", 12,
                        "unknown workload 'dbx' (workloads: web, db)"));
        assertThat(problems(VALID.replace("from: [web]", "from: [nobody]")))
                .extracting(TopologyException.Problem::field, TopologyException.Problem::line)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("egress[0].from[0]", 17));
    }

    @Test
    void duplicateWorkloadNamesAreRefused() {
        List<TopologyException.Problem> problems = problems(VALID.replace("  - name: db\n", "  - name: web\n")
                .replace("labels: {app: db}", "labels: {app: web2}"));
        assertThat(problems).anySatisfy(p -> {
            assertThat(p.field()).isEqualTo("workloads[1].name");
            assertThat(p.line()).isEqualTo(7);
            assertThat(p.message()).contains("duplicate workload name 'web'");
        });
    }

    @Test
    void duplicateEgressNamesAndDuplicateKeysAreRefused() {
        String twice = VALID + """
                  - name: api
                    cidr: 192.0.2.0/24
                    ports: [{port: 443}]
                    from: [web]
                """;
        assertThat(problems(twice)).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("egress[1].name");
            assertThat(p.line()).isEqualTo(18);
        });
        assertThat(problems(VALID.replace("    serviceAccount: db\n", "    serviceAccount: db\n    serviceAccount: x\n")))
                .singleElement().satisfies(p -> {
                    assertThat(p.field()).isEqualTo("serviceAccount");
                    assertThat(p.line()).isEqualTo(9);
                    assertThat(p.message()).contains("duplicate key (first at line 8)");
                });
    }

    @Test
    void portsOutOfRangeAreRefused() {
        assertThat(problems(VALID.replace("ports: [{port: 8080}]", "ports: [{port: 70000}]")))
                .containsExactly(new TopologyException.Problem("workloads[0].ports[0].port", 6, "port 70000 out of range 1-65535"));
        assertThat(problems(VALID.replace("ports: [{port: 443}]", "ports: [{port: 0}]")))
                .containsExactly(new TopologyException.Problem("egress[0].ports[0].port", 16, "port 0 out of range 1-65535"));
        assertThat(problems(VALID.replace("ports: [{port: 8080}]", "ports: [{port: http}]")))
                .singleElement().satisfies(p -> assertThat(p.message()).contains("named ports are not supported"));
    }

    @Test
    void anEdgeToAPortTheDestinationDoesNotServeIsRefused() {
        assertThat(problems(VALID.replace("to: db, port: 5432", "to: db, port: 5433")))
                .singleElement().satisfies(p -> {
                    assertThat(p.field()).isEqualTo("edges[0].port");
                    assertThat(p.line()).isEqualTo(12);
                    assertThat(p.message()).contains("'db' does not serve port 5433");
                });
    }

    @Test
    void invalidDnsNamesAreRefused() {
        assertThat(problems(VALID.replace("dnsName: api.example.com", "dnsName: api_example..com")))
                .singleElement().satisfies(p -> {
                    assertThat(p.field()).isEqualTo("egress[0].dnsName");
                    assertThat(p.line()).isEqualTo(15);
                    assertThat(p.message()).contains("not a valid DNS name");
                });
        assertThat(problems(VALID.replace("namespace: shop", "namespace: Shop")))
                .singleElement().satisfies(p -> assertThat(p.field()).isEqualTo("namespace"));
        assertThat(problems(VALID.replace("  - name: web\n", "  - name: web.x\n")))
                .anySatisfy(p -> assertThat(p.field()).isEqualTo("workloads[0].name"));
        assertThat(problems(VALID.replace("dnsName: api.example.com", "cidr: 10.0.0.1/8")))
                .singleElement().satisfies(p -> {
                    assertThat(p.field()).isEqualTo("egress[0].cidr");
                    assertThat(p.message()).contains("host bits must be zero");
                });
    }

    @Test
    void aTopologyWithoutEdgesIsRefused() {
        String noEdges = VALID.replace("edges:\n  - {from: web, to: db, port: 5432}\n", "edges: []\n");
        assertThat(problems(noEdges)).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("edges");
            assertThat(p.line()).isEqualTo(11);
            assertThat(p.message()).startsWith("no edges");
        });
        assertThat(problems(VALID.replace("edges:\n  - {from: web, to: db, port: 5432}\n", "")))
                .singleElement().satisfies(p -> assertThat(p.toString()).isEqualTo("line 1: edges: missing"));
    }

    @Test
    void unknownFieldsSelfEdgesAndOverlappingSelectorsAreRefused() {
        assertThat(problems(VALID.replace("    serviceAccount: web\n", "    serviceAcount: web\n")))
                .extracting(TopologyException.Problem::field)
                .containsExactlyInAnyOrder("workloads[0].serviceAcount", "workloads[0].serviceAccount");
        assertThat(problems(VALID.replace("{from: web, to: db, port: 5432}", "{from: db, to: db, port: 5432}")))
                .singleElement().satisfies(p -> assertThat(p.message()).contains("to itself"));
        assertThat(problems(VALID.replace("labels: {app: db}", "labels: {app: web, tier: db}")))
                .singleElement().satisfies(p -> {
                    assertThat(p.field()).isEqualTo("workloads[0].labels");
                    assertThat(p.message()).contains("also select the pods of 'db'");
                });
    }

    @Test
    void egressByNameThatWouldOpenAnotherWorkloadsEntryIsRefused() {
        String shared = VALID + """
                  - name: partner
                    cidr: 192.0.2.0/24
                    ports: [{port: 443}]
                    from: [db]
                """;
        assertThat(problems(shared)).singleElement().satisfies(p -> {
            assertThat(p.field()).isEqualTo("egress[1].from");
            assertThat(p.line()).isEqualTo(18);
            assertThat(p.message()).startsWith("'web' reaches api.example.com by name on 443/TCP, and NetworkPolicy cannot name hosts");
        });
        // Granting it to web as well, or using another port, makes the topology enforceable.
        assertThat(loader.parse(shared.replace("from: [db]", "from: [db, web]"), "t.yaml").egress()).hasSize(2);
        assertThat(loader.parse(shared.replace("ports: [{port: 443}]\n    from: [db]", "ports: [{port: 8443}]\n    from: [db]"), "t.yaml").egress()).hasSize(2);
    }

    @Test
    void allProblemsAreReportedAtOnce() {
        String broken = VALID.replace("to: db, port: 5432", "to: nope, port: 5432")
                .replace("ports: [{port: 8080}]", "ports: [{port: -1}]");
        assertThat(problems(broken)).extracting(TopologyException.Problem::field)
                .containsExactly("workloads[0].ports[0].port", "edges[0].to");
    }

    @Test
    void invalidYamlNamesItsLine() {
        assertThat(problems("namespace: a\nworkloads: [\n")).singleElement()
                .satisfies(p -> assertThat(p.message()).startsWith("not valid YAML"));
    }
}
