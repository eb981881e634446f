package dev.tresor.rotation.consumer;

import dev.tresor.rotation.config.ConsumerConfig;
import java.util.List;

/** Builds the consumers of a rotation definition, in their configured order. */
public final class Consumers {

    private Consumers() {}

    public static List<Consumer> create(List<ConsumerConfig> configs) {
        return configs.stream().map(Consumers::create).toList();
    }

    public static Consumer create(ConsumerConfig config) {
        return switch (config) {
            case ConsumerConfig.File f -> new FileConsumer(f);
            case ConsumerConfig.Command c -> new CommandConsumer(c);
            case ConsumerConfig.HttpCheck h -> new HttpCheckConsumer(h);
        };
    }
}
