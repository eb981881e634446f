package dev.tresor.rotation.config;

import java.nio.file.Path;

/**
 * @param kubeconfig a kubeconfig file, or null for the usual discovery (in-cluster service account, then
 *                   $KUBECONFIG, then ~/.kube/config)
 * @param context    the kubeconfig context, or null for its current one
 */
public record KubernetesSettings(Path kubeconfig, String context) {}
