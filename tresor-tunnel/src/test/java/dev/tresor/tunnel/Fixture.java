package dev.tresor.tunnel;

import dev.tresor.testkit.IssuedCert;
import dev.tresor.tunnel.config.HostPort;
import dev.tresor.tunnel.config.Mode;
import dev.tresor.tunnel.config.TunnelSpec;
import dev.tresor.tunnel.config.TunnelsConfig;
import dev.tresor.tunnel.proxy.Tunnel;
import dev.tresor.tunnel.proxy.TunnelRuntime;
import dev.tresor.tunnel.tls.AllowList;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A CA, workload certificates in files, and in-process tunnel runtimes that are closed with the fixture. */
final class Fixture implements AutoCloseable {

    static final String APP = "spiffe://tresor.local/ns/openemr/sa/openemr";
    static final String DB = "spiffe://tresor.local/ns/openemr/sa/mariadb";

    final WorkloadPki pki = WorkloadPki.create("Tunnel Test CA");
    final Path dir;
    final Path caFile;
    final IssuedCert.PemFiles serverFiles;
    final IssuedCert.PemFiles clientFiles;
    private final List<TunnelRuntime> runtimes = new ArrayList<>();

    Fixture(Path dir) {
        this.dir = dir;
        this.caFile = pki.ca().writeCaPem(dir.resolve("ca.pem"));
        this.serverFiles = WorkloadPki.write(dir, "server", pki.workload(DB));
        this.clientFiles = WorkloadPki.write(dir, "client", pki.workload(APP));
    }

    static TunnelSpec spec(String name, Mode mode, int listenPort, int targetPort, List<String> peers,
            IssuedCert.PemFiles files, Path ca, Path crl) {
        return new TunnelSpec(name, mode, new HostPort("127.0.0.1", listenPort), new HostPort("127.0.0.1", targetPort),
                AllowList.parse(mode == Mode.SERVER ? "--allow" : "--expect", peers), files.certificate(),
                files.privateKey(), ca, crl, Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofMinutes(5), 100, null, List.of());
    }

    /** Which threads the runtimes of this fixture use (platform, the default, unless a test says otherwise). */
    TunnelsConfig.Threads threads = TunnelsConfig.Threads.PLATFORM;

    TunnelRuntime run(TunnelSpec spec) throws IOException {
        return run(new TunnelsConfig(null, Duration.ofSeconds(5), Duration.ofMillis(100), threads, List.of(spec)));
    }

    TunnelRuntime run(TunnelsConfig config) throws IOException {
        TunnelRuntime runtime = new TunnelRuntime(config);
        runtimes.add(runtime);
        runtime.start();
        return runtime;
    }

    /** A server tunnel in front of {@code targetPort} allowing {@code allow}. */
    Tunnel server(int targetPort, List<String> allow, Path crl) throws IOException {
        return run(spec("db", Mode.SERVER, 0, targetPort, allow, serverFiles, caFile, crl)).tunnels().getFirst();
    }

    /** A client tunnel to {@code serverPort} expecting {@code expect}. */
    Tunnel client(int serverPort, List<String> expect) throws IOException {
        return run(spec("app", Mode.CLIENT, 0, serverPort, expect, clientFiles, caFile, null)).tunnels().getFirst();
    }

    @Override
    public void close() {
        runtimes.forEach(TunnelRuntime::close);
    }
}
