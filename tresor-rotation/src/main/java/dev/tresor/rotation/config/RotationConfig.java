package dev.tresor.rotation.config;

import java.nio.file.Path;
import java.util.List;

/**
 * One rotation definition, loaded from YAML by {@link RotationConfigLoader}.
 *
 * @param name        names the rotation (lock name, output); 1-64 of [A-Za-z0-9._-]
 * @param slotSecret  the Tresor secret holding both slots and the active one
 * @param adminSecret the Tresor secret holding the admin login that manages the slot users
 * @param schedule    a 5-field cron expression for in-server scheduling, or null
 * @param timeZone    the zone the schedule's hours are in (UTC unless {@code timeZone:} says otherwise)
 * @param kubernetes  how to reach the Kubernetes API for kubernetes-* consumers (null: in-cluster, else $KUBECONFIG)
 * @param source      the file it came from
 */
public record RotationConfig(String name, TargetConfig target, String slotSecret, String adminSecret,
                             List<ConsumerConfig> consumers, Validation validation, Timeouts timeouts, String schedule,
                             java.time.ZoneId timeZone, KubernetesSettings kubernetes, Path source) {

    public RotationConfig {
        consumers = List.copyOf(consumers);
    }
}
