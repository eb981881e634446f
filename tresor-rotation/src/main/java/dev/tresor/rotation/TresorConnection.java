package dev.tresor.rotation;

import dev.tresor.client.api.ServerAddresses;
import java.net.URI;
import java.nio.file.Path;

/**
 * Where the Tresor API is (one or more nodes of a cluster, tried in order) and the rotation job's
 * own client certificate, key and CA bundle (PEM files).
 */
public record TresorConnection(ServerAddresses servers, Path cert, Path key, Path ca) {

    public TresorConnection(URI address, Path cert, Path key, Path ca) {
        this(ServerAddresses.of(address), cert, key, ca);
    }

    /** The first node: where the job goes while it answers. */
    public URI address() {
        return servers.first();
    }
}
