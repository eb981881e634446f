package dev.tresor.ui;

import dev.tresor.crypto.KeyProvider;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Everything the console needs, decided by its caller (the CLI resolves flags, TRESOR_* variables
 * and the profile): this module knows nothing of them.
 *
 * @param server          the Tresor API address (https://host:port), called with {@code tls}
 * @param tls             the CLI identity's mTLS context; the browser never sees the key
 * @param listenHost      the address the console binds to (127.0.0.1 unless the operator says otherwise)
 * @param port            the console's port, 0 for any free one
 * @param allowRemote     true only when the operator explicitly allowed a non-loopback bind
 * @param management      the servers' plain-HTTP management addresses (for /readyz and /metrics), may be empty
 * @param auditLog        the audit log file or folder to verify the chain of, or null (status then "not checked")
 * @param auditKey        the KEK that wraps the chain key, or null with {@code auditLog} null
 * @param rotationSlots   the slot secrets of the rotations to show on the Rotation page (tresor rotate's secrets.slots)
 * @param requestTimeout  bound of each call to the API or a management address
 * @param clock           the time source ("expiring soon", session expiry)
 */
public record ConsoleSettings(URI server, SSLContext tls, String listenHost, int port, boolean allowRemote,
                              List<URI> management, Path auditLog, KeyProvider auditKey, List<String> rotationSlots,
                              Duration requestTimeout, Clock clock) {

    public static final String LOOPBACK = "127.0.0.1";

    public ConsoleSettings {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(clock, "clock");
        management = List.copyOf(management);
        rotationSlots = List.copyOf(rotationSlots);
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
        if ((auditLog == null) != (auditKey == null)) {
            throw new IllegalArgumentException("the audit log and its key go together: give both or neither");
        }
    }

    /** Loopback, any free port, no management addresses, no local audit log. */
    public static ConsoleSettings local(URI server, SSLContext tls) {
        return new ConsoleSettings(server, tls, LOOPBACK, 0, false, List.of(), null, null, List.of(), Duration.ofSeconds(10),
                Clock.systemUTC());
    }

    public ConsoleSettings withListen(String host, int newPort, boolean remoteAllowed) {
        return new ConsoleSettings(server, tls, host, newPort, remoteAllowed, management, auditLog, auditKey,
                rotationSlots, requestTimeout, clock);
    }

    public ConsoleSettings withManagement(List<URI> addresses) {
        return new ConsoleSettings(server, tls, listenHost, port, allowRemote, addresses, auditLog, auditKey,
                rotationSlots, requestTimeout, clock);
    }

    public ConsoleSettings withAuditLog(Path log, KeyProvider key) {
        return new ConsoleSettings(server, tls, listenHost, port, allowRemote, management, log, key, rotationSlots,
                requestTimeout, clock);
    }

    public ConsoleSettings withClock(Clock newClock) {
        return new ConsoleSettings(server, tls, listenHost, port, allowRemote, management, auditLog, auditKey,
                rotationSlots, requestTimeout, newClock);
    }

    public ConsoleSettings withRotations(List<String> slotSecrets) {
        return new ConsoleSettings(server, tls, listenHost, port, allowRemote, management, auditLog, auditKey, slotSecrets,
                requestTimeout, clock);
    }
}
