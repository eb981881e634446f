package dev.tresor.agent.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code agent.yaml}, validated (docs/delivery.md, "tresor agent", documents every field).
 *
 * @param server      the API address; null when taken from the credential directory's {@code server.url}
 * @param failover    further nodes of the same cluster, tried in order when {@code server} does not answer
 * @param outputs     raw secret files first, then templates, in file order
 * @param reload      what to do after files changed (null: nothing, or exec mode's child)
 * @param exec        how exec mode treats its child on a change
 */
public record AgentConfig(URI server, CredentialsSpec credentials, Path destination, List<Output> outputs,
                          ReloadSpec reload, ExecSpec exec, Duration debounce, boolean keepOnRevoke, Duration watchWait,
                          Duration pollInterval, Duration minBackoff, Duration maxBackoff, Duration requestTimeout,
                          StatusSpec status, List<URI> failover) {

    public AgentConfig {
        outputs = List.copyOf(outputs);
        failover = List.copyOf(failover);
    }

    /** The client identity: PEM files, or a credential directory renewed at half-life. */
    public sealed interface CredentialsSpec permits Files, Directory {}

    /** {@code cert}/{@code key}: the client certificate (reloaded when the files change); {@code ca}: the server's CA. */
    public record Files(Path cert, Path key, Path ca) implements CredentialsSpec {}

    /** A {@code tresor cert join} folder; {@code renew}: renew at half-life through the CA. */
    public record Directory(Path dir, boolean renew) implements CredentialsSpec {}

    /** After a change: run {@code command}, and/or send {@code signal} to {@code pid} or the PID in {@code pidFile}. */
    public record ReloadSpec(List<String> command, String signal, Long pid, Path pidFile, Duration timeout) {
        public ReloadSpec {
            command = command == null ? List.of() : List.copyOf(command);
        }
    }

    /** Exec mode: on a change {@code restart} the child, or send it {@code signal}; {@code stopTimeout} before SIGKILL. */
    public record ExecSpec(boolean restart, String signal, Duration stopTimeout) {
        public static final ExecSpec DEFAULT = new ExecSpec(true, "TERM", Duration.ofSeconds(10));
    }

    /** A JSON status file (written atomically) and/or a loopback HTTP endpoint ({@code /healthz}, {@code /status}). */
    public record StatusSpec(Path file, String host, int port) {
        public static final StatusSpec NONE = new StatusSpec(null, null, -1);

        public boolean listens() {
            return port >= 0;
        }
    }
}
