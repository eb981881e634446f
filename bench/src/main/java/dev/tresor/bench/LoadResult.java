package dev.tresor.bench;

import java.util.Map;

/**
 * One measured window. Latencies are in microseconds; CPU in seconds over the window only.
 *
 * @param serverCpuSeconds user+system CPU of the given server processes during the window
 * @param clientCpuSeconds CPU of the load generator's own JVM during the window
 * @param errorsByKind     "status 500", "IOException: ..." etc. with counts
 */
record LoadResult(String label, int connections, double seconds, long requests, long errors,
                  Map<String, Long> errorsByKind, double requestsPerSecond, double p50, double p90, double p99,
                  double p999, double max, double mean, double serverCpuSeconds, double clientCpuSeconds,
                  String protocol, String cipherSuite, double loadAverage, long reconnects,
                  double settleSeconds, boolean settled) {

    /** Server CPU microseconds per answered request. */
    double serverCpuMicrosPerRequest() {
        return requests == 0 ? Double.NaN : serverCpuSeconds * 1e6 / requests;
    }

    /**
     * The load generator's own CPU microseconds per answered request: next to the server's, it
     * shows when the generator, not the server, sets the pace (issue 21 §8).
     */
    double clientCpuMicrosPerRequest() {
        return requests == 0 ? Double.NaN : clientCpuSeconds * 1e6 / requests;
    }

    String summary() {
        return String.format("%-14s conns=%-3d %9.0f req/s  p50=%7.0fus p90=%7.0fus p99=%7.0fus p99.9=%7.0fus max=%7.0fus"
                        + "  server CPU %6.1f us/req  client CPU %5.2fs (%5.1f us/req)  errors=%d%s  %s %s load=%.2f%s",
                label, connections, requestsPerSecond, p50, p90, p99, p999, max, serverCpuMicrosPerRequest(),
                clientCpuSeconds, clientCpuMicrosPerRequest(), errors, errorsByKind.isEmpty() ? "" : " " + errorsByKind, protocol, cipherSuite,
                loadAverage, settleSeconds < 0.5 ? "" : String.format(" (JIT settled after %.0f s%s)", settleSeconds,
                        settled ? "" : ", NOT quiet: window started at the limit"));
    }
}
