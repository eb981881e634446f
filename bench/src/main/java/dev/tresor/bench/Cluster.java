package dev.tresor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * N {@code tresor server} processes on one PostgreSQL (issue 17), as an operator runs them: one
 * data folder (same KEK, CA, TLS files and store), node 1 on the folder's own {@code tresor.yaml},
 * each further node on a copy with its own loopback ports and its own audit log. The reader
 * client may read the 100 secrets {@link BulkLoad} puts. Processes are started by this JVM and
 * stopped by their handle, never by name.
 */
final class Cluster implements AutoCloseable {

    /** One node's config and ports; {@code server} is null while it is not running. */
    static final class Node {
        final int number;
        final Path config;
        final int apiPort;
        final int managementPort;
        ServerProcess server;
        private int starts;

        Node(int number, Path config, int apiPort, int managementPort) {
            this.number = number;
            this.config = config;
            this.apiPort = apiPort;
            this.managementPort = managementPort;
        }

        java.net.URI api() {
            return java.net.URI.create("https://127.0.0.1:" + apiPort);
        }
    }

    private final Path root;
    private final StoreFolder folder;
    private final List<Node> nodes;
    private final DataDir.Credentials reader;

    private Cluster(Path root, StoreFolder folder, List<Node> nodes, DataDir.Credentials reader) {
        this.root = root;
        this.folder = folder;
        this.nodes = nodes;
        this.reader = reader;
    }

    /** Makes the folder on a fresh embedded PostgreSQL database, the node configs and the reader; starts nothing. */
    static Cluster create(Path repoRoot, Path dir, int nodeCount) throws IOException {
        StoreFolder sf = StoreFolder.create(dir, "postgresql");
        Path first = sf.folder().config();
        String yaml = Files.readString(first);
        List<Node> nodes = new ArrayList<>(List.of(new Node(1, first, sf.apiPort(), sf.managementPort())));
        for (int n = 2; n <= nodeCount; n++) {
            int api = StoreFolder.freePort();
            int mgmt = StoreFolder.freePort();
            String text = yaml.replace("api: \"127.0.0.1:" + sf.apiPort() + "\"", "api: \"127.0.0.1:" + api + "\"")
                    .replace("management: \"127.0.0.1:" + sf.managementPort() + "\"", "management: \"127.0.0.1:" + mgmt + "\"")
                    .replace("path: audit.log", "path: audit-" + n + ".log");
            if (text.equals(yaml) || !text.contains(":" + api + "\"") || !text.contains("audit-" + n + ".log")) {
                throw new IllegalStateException("could not derive node " + n + "'s config from " + first);
            }
            Path config = first.resolveSibling("tresor-" + n + ".yaml");
            Files.writeString(config, text);
            nodes.add(new Node(n, config, api, mgmt));
        }
        DataDir data = sf.data();
        Path certs = Files.createDirectories(dir.resolve("bench-clients"));
        DataDir.Credentials reader = data.issueClient("reader", data.identityOf("reader"), certs);
        DataDir.Credentials lister = data.issueClient("lister", data.identityOf("lister"), certs);
        try (BulkLoad load = new BulkLoad(first, sf.admin().identity())) {
            load.setUp(reader.identity(), lister.identity());
            load.put(0, 100, 2, i -> { });
        }
        return new Cluster(repoRoot, sf, List.copyOf(nodes), reader);
    }

    List<Node> nodes() {
        return nodes;
    }

    DataDir.Credentials reader() {
        return reader;
    }

    Endpoint readerEndpoint(Node node) {
        return folder.data().endpoint(reader, node.apiPort);
    }

    /** {@code /v1/secrets/...} of the secrets the reader may read. */
    static List<String> readPaths() {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            paths.add("/v1/secrets/" + BulkLoad.name(i));
        }
        return paths;
    }

    /** Starts the given nodes at once and returns when every one answers {@code /readyz}. */
    void start(List<Node> which) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (Node node : which) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    node.server = ServerProcess.start(root, node.config, node.managementPort,
                            node.config.resolveSibling("node-" + node.number + "-" + node.starts++ + ".log"), List.of());
                } catch (Exception e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw failures.getFirst();
        }
    }

    /** The PIDs of the running Tresor nodes. */
    List<Long> nodePids() {
        return nodes.stream().filter(n -> n.server != null).map(n -> n.server.pid()).toList();
    }

    /**
     * The processes of the PostgreSQL that serves this cluster's database: its postmaster (found by
     * the port in its command line) and every backend it forked. The testkit starts PostgreSQL
     * through pg_ctl, which detaches the postmaster, so it is not a descendant of this JVM.
     */
    List<Long> postgresPids() {
        int port = java.net.URI.create(folder.pg().jdbcUrl().substring("jdbc:".length())).getPort();
        ProcessHandle postmaster = ProcessHandle.allProcesses()
                .filter(h -> h.info().command().orElse("").endsWith("/postgres"))
                .filter(h -> h.info().arguments().map(args -> List.of(args).contains(Integer.toString(port))).orElse(false))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no postgres process listens on port " + port));
        List<Long> pids = new ArrayList<>(List.of(postmaster.pid()));
        postmaster.descendants().forEach(h -> pids.add(h.pid()));
        return pids;
    }

    @Override
    public void close() {
        for (Node node : nodes) {
            if (node.server != null) {
                node.server.close();
                node.server = null;
            }
        }
    }
}
