package dev.tresor.server;

import dev.tresor.api.KeyAdministration;
import java.time.Duration;
import java.util.Map;

/** The server's key operations for the API: the KEK (and keyring) and the CA key. */
final class KeyOperations implements KeyAdministration {

    private final KekRotation kek;
    private final CaRollover ca;
    private final KeyringRotationJob keyring;

    KeyOperations(KekRotation kek, CaRollover ca, KeyringRotationJob keyring) {
        this.kek = kek;
        this.ca = ca;
        this.keyring = keyring;
    }

    @Override
    public Map<String, Object> status() {
        // The job's phase first, then the keyring from the store: a phase of "done" then comes with
        // the keyring as the job left it. The other way round, a status whose store read began just
        // before the job retired the old key said "done" next to both keys.
        KeyringRotationJob.State s = keyring.state();
        Map<String, Object> out = new java.util.LinkedHashMap<>(kek.status());
        Map<String, Object> rotation = new java.util.LinkedHashMap<>();
        rotation.put("phase", s.phase());
        rotation.put("rewrapped", s.rewrapped());
        rotation.put("unreadable", s.unreadable());
        rotation.put("remaining", s.remaining());
        rotation.put("startedAt", s.startedAt() == null ? null : s.startedAt().toString());
        rotation.put("problem", s.problem());
        out.put("keyringRotation", rotation);
        return out;
    }

    @Override
    public Map<String, Object> rotateKeyring() {
        return keyring.begin();
    }

    @Override
    public Map<String, Object> rotateKek(String keyId) {
        return kek.rotateKek(keyId);
    }

    @Override
    public Map<String, Object> migrate(String spec) {
        return kek.migrate(spec);
    }

    @Override
    public Map<String, Object> rotateCa(Duration overlap) {
        return ca.rotate(overlap);
    }
}
