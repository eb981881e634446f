package dev.tresor.rotation.consumer;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * fabric8's Kubernetes API mock in CRUD mode (it stores what is written, no controllers), plus a
 * small Deployment controller thread that does what the real one does after a pod-template change:
 * after a moment, reports the new generation observed and every replica updated, ready, available.
 * The controller can be paused to test rollout timeouts.
 */
public final class FakeKubernetes implements AutoCloseable {

    public static final String NAMESPACE = "app";

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final Thread controller;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicBoolean paused = new AtomicBoolean(false);
    private final AtomicInteger rollouts = new AtomicInteger();

    public FakeKubernetes() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        controller = Thread.ofPlatform().daemon().name("fake-deployment-controller").start(this::control);
    }

    public KubernetesClient client() {
        return client;
    }

    /** A Secret with one unrelated key, and a Deployment of {@code replicas} pods fully rolled out. */
    public void create(String secret, String deployment, int replicas) {
        client.secrets().inNamespace(NAMESPACE).resource(new SecretBuilder().withNewMetadata().withName(secret)
                .withNamespace(NAMESPACE).endMetadata().withData(Map.of("OTHER", "a2VlcA==")).build()).create();
        Deployment d = client.apps().deployments().inNamespace(NAMESPACE).resource(new DeploymentBuilder()
                .withNewMetadata().withName(deployment).withNamespace(NAMESPACE).withGeneration(1L).endMetadata()
                .withNewSpec().withReplicas(replicas).withNewTemplate().withNewMetadata().addToLabels("app", deployment)
                .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("openemr/openemr").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
        client.apps().deployments().inNamespace(NAMESPACE).withName(deployment).editStatus(x -> rolledOut(x));
    }

    private static Deployment rolledOut(Deployment d) {
        int n = d.getSpec().getReplicas();
        long generation = d.getMetadata().getGeneration() == null ? 1 : d.getMetadata().getGeneration();
        return new DeploymentBuilder(d).withNewStatus().withObservedGeneration(generation).withReplicas(n)
                .withUpdatedReplicas(n).withReadyReplicas(n).withAvailableReplicas(n).endStatus().build();
    }

    private void control() {
        while (running.get()) {
            try {
                if (!paused.get()) {
                    for (Deployment d : client.apps().deployments().inNamespace(NAMESPACE).list().getItems()) {
                        Long generation = d.getMetadata().getGeneration();
                        Long observed = d.getStatus() == null ? null : d.getStatus().getObservedGeneration();
                        if (generation != null && (observed == null || observed < generation)) {
                            Thread.sleep(100); // pods take a moment to come up
                            if (paused.get()) {
                                break;
                            }
                            client.apps().deployments().inNamespace(NAMESPACE).withName(d.getMetadata().getName())
                                    .editStatus(FakeKubernetes::rolledOut);
                            rollouts.incrementAndGet();
                        }
                    }
                }
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The mock may be shutting down; the next round tries again.
            }
        }
    }

    public void pause(boolean pause) {
        paused.set(pause);
    }

    public int rollouts() {
        return rollouts.get();
    }

    /** A kubeconfig pointing at the mock (plain HTTP on loopback, a dummy token). */
    public Path writeKubeconfig(Path file) throws IOException {
        String url = server.url("/").replaceAll("/$", "");
        return Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster:
                    server: %s
                contexts:
                - name: mock
                  context:
                    cluster: mock
                    user: mock
                    namespace: %s
                current-context: mock
                users:
                - name: mock
                  user:
                    token: test-only
                """.formatted(url, NAMESPACE));
    }

    @Override
    public void close() {
        running.set(false);
        controller.interrupt();
        try {
            controller.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        server.destroy();
    }
}
