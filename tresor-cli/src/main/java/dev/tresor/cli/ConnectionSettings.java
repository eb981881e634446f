package dev.tresor.cli;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the server is and which certificate, key and CA bundle to use with it, each with its
 * origin. {@code others} are further nodes of the same cluster ({@code TRESOR_ADDR=a,b,c}), tried
 * in order when {@code address} cannot be reached or is unavailable.
 */
record ConnectionSettings(Setting<URI> address, Setting<Path> cert, Setting<Path> key, Setting<Path> ca, List<URI> others) {

    ConnectionSettings {
        others = List.copyOf(others);
    }

    ConnectionSettings(Setting<URI> address, Setting<Path> cert, Setting<Path> key, Setting<Path> ca) {
        this(address, cert, key, ca, List.of());
    }

    /** These settings aimed at {@code other} (one of {@link #addresses}), for messages that name the address. */
    ConnectionSettings withAddress(URI other) {
        return other.equals(address.value()) ? this : new ConnectionSettings(new Setting<>(other, address.source()), cert, key, ca,
                List.of());
    }

    /** Every address, the first one first. */
    List<URI> addresses() {
        List<URI> all = new java.util.ArrayList<>();
        all.add(address.value());
        all.addAll(others);
        return all;
    }
}
