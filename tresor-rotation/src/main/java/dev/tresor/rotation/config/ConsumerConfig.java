package dev.tresor.rotation.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Where the application picks the active slot's credentials up, or how to check it came back. */
public sealed interface ConsumerConfig {

    /** One line for step output, e.g. "file /etc/app/db.php". */
    String describe();

    /**
     * A file rendered from a template, written atomically (temp file in the same folder, fsync,
     * chmod/chown, rename, fsync of the folder).
     *
     * @param template the template text; placeholders {{username}} {{password}} {{host}} {{port}} {{dbname}}
     *                 {{slot}}, each optionally with a filter: |php (single-quoted PHP string), |json, |raw
     * @param mode     POSIX mode such as 0640
     * @param owner    user to chown to, or null to keep the writer's
     * @param group    group to chown to, or null
     */
    record File(Path path, String template, Path templateSource, String mode, String owner, String group) implements ConsumerConfig {
        @Override
        public String describe() {
            return "file " + path;
        }
    }

    /** A command run after delivery (a restart or reload); non-zero exit or timeout fails the step. */
    record Command(List<String> command, Duration timeout) implements ConsumerConfig {
        public Command {
            command = List.copyOf(command);
        }

        @Override
        public String describe() {
            return "command " + command.getFirst();
        }
    }

    /** An HTTP health check: waited for after delivery and checked during validation. */
    record HttpCheck(URI url, int expectStatus, boolean fatal, Duration timeout) implements ConsumerConfig {
        @Override
        public String describe() {
            return "http-check " + url;
        }
    }

    /**
     * Keys of a Kubernetes Secret, each rendered from its template (same placeholders as a file);
     * other keys are kept. The Secret must exist: the rotation patches, never creates.
     */
    record KubernetesSecret(String namespace, String name, Map<String, String> data) implements ConsumerConfig {
        public KubernetesSecret {
            data = Map.copyOf(data);
        }

        @Override
        public String describe() {
            return "kubernetes-secret " + namespace + "/" + name;
        }
    }

    /**
     * A rolling restart of a Deployment (pod-template annotation, as {@code kubectl rollout restart}),
     * waited for until every replica is updated, ready and available, within {@code timeout}.
     */
    record KubernetesRollout(String namespace, String deployment, Duration timeout) implements ConsumerConfig {
        @Override
        public String describe() {
            return "kubernetes-rollout " + namespace + "/" + deployment;
        }
    }
}
