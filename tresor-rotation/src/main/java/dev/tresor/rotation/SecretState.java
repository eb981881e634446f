package dev.tresor.rotation;

import java.util.Optional;

/**
 * A secret as rotation sees it: the version labelled {@code current} and, if a rotation wrote
 * one ahead and did not finish, the newer version labelled {@code pending}. A {@code pending}
 * label on a version at or below {@code current} is stale (a finished or superseded attempt) and
 * is ignored, so a crash can never block later rotations.
 */
public record SecretState<T>(String name, Versioned<T> current, Optional<Versioned<T>> pending) {

    public int currentVersion() {
        return current.version();
    }
}
