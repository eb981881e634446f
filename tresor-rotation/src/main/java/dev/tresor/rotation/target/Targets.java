package dev.tresor.rotation.target;

import dev.tresor.rotation.config.TargetConfig;
import java.time.Duration;

/** Picks the implementation for a target kind. */
public final class Targets {

    private Targets() {}

    public static DatabaseTarget create(TargetConfig config, Duration connectTimeout) {
        return switch (config.kind()) {
            case MARIADB, MYSQL -> new MariaDbTarget(config, connectTimeout);
            case POSTGRESQL -> new PostgresTarget(config, connectTimeout);
        };
    }
}
