package dev.tresor.agent.status;

import java.util.Map;

/**
 * What the agent reports (status file, {@code /status}): never a value. Times are ISO-8601 text.
 *
 * @param state    {@code starting}, {@code ok} (in sync with the server), {@code degraded} (server
 *                 unreachable or failing: the last good files are kept), {@code stopped}
 * @param files    per output: {@code present}, {@code removed} (revoked/deleted), {@code missing} (never readable)
 */
public record AgentStatus(String state, String identity, String certificateSerial, String cursor, String lastSync, String lastError,
                          int consecutiveFailures, Map<String, FileStatus> files) {

    public AgentStatus {
        files = Map.copyOf(files);
    }

    /** One output: its state, the secret versions it was rendered from, and when. */
    public record FileStatus(String state, Map<String, Integer> versions, String renderedAt, String problem) {
        public FileStatus {
            versions = Map.copyOf(versions);
        }
    }

    public boolean healthy() {
        return state.equals("ok");
    }
}
