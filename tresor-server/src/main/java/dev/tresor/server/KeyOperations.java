package dev.tresor.server;

import dev.tresor.api.KeyAdministration;
import java.time.Duration;
import java.util.Map;

/** The server's key operations for the API: the KEK (and keyring) and the CA key. */
final class KeyOperations implements KeyAdministration {

    private final KekRotation kek;
    private final CaRollover ca;

    KeyOperations(KekRotation kek, CaRollover ca) {
        this.kek = kek;
        this.ca = ca;
    }

    @Override
    public Map<String, Object> status() {
        return kek.status();
    }

    @Override
    public Map<String, Object> rotateKek() {
        return kek.rotateKek();
    }

    @Override
    public Map<String, Object> rotateCa(Duration overlap) {
        return ca.rotate(overlap);
    }
}
