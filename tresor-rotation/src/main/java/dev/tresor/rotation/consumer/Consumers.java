package dev.tresor.rotation.consumer;

import dev.tresor.rotation.config.ConsumerConfig;
import java.time.Clock;
import java.util.List;

/** Builds the consumers of a rotation definition, in their configured order. */
public final class Consumers {

    private Consumers() {}

    public static List<Consumer> create(List<ConsumerConfig> configs, KubernetesAccess kubernetes) {
        return configs.stream().map(c -> create(c, kubernetes)).toList();
    }

    public static Consumer create(ConsumerConfig config, KubernetesAccess kubernetes) {
        return switch (config) {
            case ConsumerConfig.File f -> new FileConsumer(f);
            case ConsumerConfig.Command c -> new CommandConsumer(c);
            case ConsumerConfig.HttpCheck h -> new HttpCheckConsumer(h);
            case ConsumerConfig.KubernetesSecret s -> new KubernetesSecretConsumer(s, kubernetes);
            case ConsumerConfig.KubernetesRollout r -> new KubernetesRolloutConsumer(r, kubernetes, Clock.systemUTC());
        };
    }
}
