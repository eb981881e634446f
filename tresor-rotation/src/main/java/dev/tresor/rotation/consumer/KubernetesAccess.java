package dev.tresor.rotation.consumer;

import dev.tresor.rotation.RotationException;
import dev.tresor.rotation.config.KubernetesSettings;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;

/**
 * One Kubernetes API client for the kubernetes-* consumers of a run, created on first use: from
 * the definition's kubeconfig if it names one, else the usual discovery (in-cluster service
 * account, $KUBECONFIG, ~/.kube/config). Closed with the run.
 */
public final class KubernetesAccess implements AutoCloseable {

    private final KubernetesSettings settings;
    private KubernetesClient client;

    public KubernetesAccess(KubernetesSettings settings) {
        this.settings = settings;
    }

    /** For tests and embedders that already have a client (closed by them, not here). */
    public static KubernetesAccess of(KubernetesClient client) {
        KubernetesAccess access = new KubernetesAccess(null);
        access.client = client;
        return access;
    }

    synchronized KubernetesClient client() {
        if (client == null) {
            try {
                Config config;
                if (settings != null && settings.kubeconfig() != null) {
                    config = Config.fromKubeconfig(settings.context(), Files.readString(settings.kubeconfig()),
                            settings.kubeconfig().toString());
                } else if (settings != null && settings.context() != null) {
                    config = Config.autoConfigure(settings.context());
                } else {
                    config = Config.autoConfigure(null);
                }
                client = new KubernetesClientBuilder().withConfig(config).build();
            } catch (IOException | RuntimeException e) {
                throw new RotationException(RotationException.Kind.CONFIG, "cannot configure the Kubernetes client"
                        + (settings != null && settings.kubeconfig() != null ? " from " + settings.kubeconfig() : "")
                        + ": " + e.getMessage());
            }
        }
        return client;
    }

    @Override
    public synchronized void close() {
        if (client != null && settings != null) {
            client.close();
        }
    }
}
