package dev.tresor.rotation;

import dev.tresor.rotation.config.RotationConfig;
import dev.tresor.rotation.consumer.Consumers;
import dev.tresor.rotation.consumer.KubernetesAccess;
import dev.tresor.rotation.target.Targets;
import java.security.SecureRandom;

/** Wires a rotation definition to a Tresor connection: the one place that builds a {@link RotationEngine}. */
public final class RotationJob implements AutoCloseable {

    private final TresorApi api;
    private final KubernetesAccess kubernetes;
    private final RotationEngine engine;

    public RotationJob(RotationConfig config, TresorConnection tresor, RotationListener listener, StepHook hook) {
        this.api = TresorApi.open(tresor);
        this.kubernetes = new KubernetesAccess(config.kubernetes());
        this.engine = new RotationEngine(config, api, Targets.create(config.target(), config.timeouts().connect()),
                Consumers.create(config.consumers(), kubernetes), new Passwords(new SecureRandom()), listener, hook);
    }

    public RotationEngine engine() {
        return engine;
    }

    @Override
    public void close() {
        kubernetes.close();
        api.close();
    }
}
