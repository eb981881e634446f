package dev.tresor.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The load generator as a command: one closed-loop run against one loopback HTTPS endpoint.
 *
 * <pre>
 * java -cp ... dev.tresor.bench.LoadGen --port 8443 --cert c.crt --key c.key --ca ca.crt \
 *     --path /v1/secrets/a --path-count 100 --accept application/octet-stream \
 *     --connections 8 --warmup 5 --duration 10 --max-requests 1000000 --pids 1234,1235 [--json out.jsonl]
 * </pre>
 * With {@code --path-count N}, {@code --path P} is a prefix and the paths are P-000 .. P-(N-1).
 */
public final class LoadGen {

    private LoadGen() {}

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        Endpoint endpoint = Endpoint.of(a.string("host", "127.0.0.1"), a.integer("port", 8443), a.path("cert"), a.path("key"),
                a.path("ca"), a.string("protocol", "TLSv1.3"), a.string("cipher", "TLS_AES_128_GCM_SHA256"));
        String path = a.required("path");
        int count = a.integer("path-count", 0);
        List<String> paths = new ArrayList<>();
        if (count == 0) {
            paths.add(path);
        } else {
            for (int i = 0; i < count; i++) {
                paths.add(path + String.format("%03d", i));
            }
        }
        LoadGenerator.Spec spec = new LoadGenerator.Spec(a.string("label", "load"), endpoint,
                RequestPlan.gets(paths, a.string("accept", "application/octet-stream")), a.integer("connections", 8),
                a.seconds("warmup", 5), a.seconds("duration", 10), a.longValue("max-requests", 5_000_000),
                a.pids("pids"), LoadGenerator.Spec.success());
        String json = a.string("json", null);
        a.checkAllUsed();
        LoadResult r = LoadGenerator.run(spec);
        System.out.println(r.summary());
        if (json != null) {
            Files.writeString(Path.of(json), Reports.json(r) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        System.exit(r.errors() == 0 ? 0 : 1);
    }
}
